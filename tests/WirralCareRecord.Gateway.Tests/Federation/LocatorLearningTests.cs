using WirralCareRecord.Gateway.Federation;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>The locator's rules for learning, without storage: what a read adds, drops and rewrites.</summary>
public sealed class LocatorLearningTests
{
    private const string Nhs = "9000000009";
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    private static LocatorObservation Seen(DateTimeOffset at, string[]? held = null, string[]? notHeld = null, string[]? namedAsGp = null, bool sweep = false) =>
        new(at, held ?? [], notHeld ?? [], [.. held ?? [], .. notHeld ?? []], namedAsGp ?? [], sweep, DemographicsChecked: false);

    private static string[] Holders(LocatorDocument document) => [.. document.Holders.Select(h => h.OdsCode)];

    [Fact]
    public void Apply_FirstSweep_KeepsHoldersWithTheTimeSeenAndTheSweepTime()
    {
        var (document, changed) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL", "N85002"], notHeld: ["N85003"], sweep: true), Week);

        Assert.True(changed);
        Assert.Equal(Nhs, document.NhsNumber);
        Assert.Equal(["N85002", "RBL"], Holders(document));
        Assert.All(document.Holders, h => Assert.Equal(T0, h.LastSeen));
        Assert.Equal(T0, document.LastSweep);
        Assert.Equal("N85003", Assert.Single(document.Declined).OdsCode);
    }

    [Fact]
    public void Apply_SameHoldersWithinTheHour_IsNotWorthAWrite()
    {
        var (first, _) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL"], sweep: true), Week);

        var (_, soon) = LocatorLearning.Apply(first, Nhs, Seen(T0.AddMinutes(10), held: ["RBL"]), Week);
        var (later, afterAnHour) = LocatorLearning.Apply(first, Nhs, Seen(T0.AddHours(2), held: ["RBL"]), Week);

        Assert.False(soon);
        Assert.True(afterAnHour);
        Assert.Equal(T0.AddHours(2), later.Holder("RBL")!.LastSeen);
        Assert.Equal(T0, later.LastSweep);
    }

    [Fact]
    public void Apply_EveryoneAskedAgainWithinTheHour_IsNotWorthAWriteUntilTheHourIsUp()
    {
        // Three sources that all hold the patient: every read asks everyone, so every read is a sweep.
        var (first, _) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL", "RY7", "N85001"], sweep: true), Week);

        var (_, soon) = LocatorLearning.Apply(first, Nhs, Seen(T0.AddMinutes(10), held: ["RBL", "RY7", "N85001"], sweep: true), Week);
        var (later, afterAnHour) = LocatorLearning.Apply(first, Nhs, Seen(T0.AddMinutes(61), held: ["RBL", "RY7", "N85001"], sweep: true), Week);
        var (_, claimed) = LocatorLearning.Apply(first with { SweepClaimedAt = T0.AddMinutes(5) }, Nhs, Seen(T0.AddMinutes(10), held: ["RBL", "RY7", "N85001"], sweep: true), Week);

        Assert.False(soon);
        Assert.True(afterAnHour);
        Assert.Equal(T0.AddMinutes(61), later.LastSweep);
        // A re-sweep's claim is always cleared by the sweep that answers it.
        Assert.True(claimed);
    }

    [Fact]
    public void Apply_HolderSaysItDoesNotKnowThePatient_IsDropped()
    {
        var (first, _) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL", "N85002"], sweep: true), Week);

        var (next, changed) = LocatorLearning.Apply(first, Nhs, Seen(T0.AddMinutes(5), held: ["RBL"], notHeld: ["N85002"]), Week);

        Assert.True(changed);
        Assert.Equal(["RBL"], Holders(next));
    }

    [Fact]
    public void Apply_PracticeNamedAsGpAfterItSaidNo_IsAddedOnce_ButNotWhenItSaysNoWhileNamed()
    {
        var (swept, _) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL"], notHeld: ["N85003"], sweep: true), Week);

        var (named, _) = LocatorLearning.Apply(swept, Nhs, Seen(T0.AddMinutes(1), held: ["RBL"], namedAsGp: ["N85003"]), Week);
        var (saysNoAgain, _) = LocatorLearning.Apply(named, Nhs, Seen(T0.AddMinutes(2), held: ["RBL"], notHeld: ["N85003"], namedAsGp: ["N85003"]), Week);
        var (stillNamed, _) = LocatorLearning.Apply(saysNoAgain, Nhs, Seen(T0.AddMinutes(3), held: ["RBL"], namedAsGp: ["N85003"]), Week);

        Assert.Equal(["N85003", "RBL"], Holders(named));
        Assert.Equal(T0.AddMinutes(1), named.Holder("N85003")!.NamedAsGp);
        Assert.Equal(["RBL"], Holders(saysNoAgain));
        Assert.Equal(["RBL"], Holders(stillNamed));
    }

    [Fact]
    public void Apply_DeclineWhileNamedOlderThanItsLifetime_NoLongerKeepsTheNamedPracticeOut()
    {
        var (first, _) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL"], notHeld: ["N85003"], namedAsGp: ["N85003"], sweep: true), Week);

        var (later, _) = LocatorLearning.Apply(first, Nhs, Seen(T0.AddDays(8), held: ["RBL"], namedAsGp: ["N85003"]), Week);

        Assert.True(first.Knows("N85003"));
        Assert.Empty(later.Declined);
        Assert.Equal(["N85003", "RBL"], Holders(later));
    }

    [Fact]
    public void Document_AsStored_HoldsOnlyTheNumberCodesAndTimes()
    {
        var (document, _) = LocatorLearning.Apply(null, Nhs, Seen(T0, held: ["RBL"], notHeld: ["N85003"], namedAsGp: ["N85002"], sweep: true), Week);

        var json = System.Text.Json.JsonDocument.Parse(document.ToBinary().ToString()).RootElement;

        Assert.Equal(["nhsNumber", "lastSweep", "holders", "declined"], json.EnumerateObject().Select(p => p.Name));
        var fields = json.GetProperty("holders").EnumerateArray().SelectMany(h => h.EnumerateObject().Select(p => p.Name)).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(["lastAsked", "lastSeen", "namedAsGp", "odsCode"], fields);
        var parsed = LocatorDocument.Parse(document.ToBinary());
        Assert.Equal(document.Holders, parsed.Holders);
        Assert.Equal(document.Declined, parsed.Declined);
        Assert.Equal(document.LastSweep, parsed.LastSweep);
    }
}
