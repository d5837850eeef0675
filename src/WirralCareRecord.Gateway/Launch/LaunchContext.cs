using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace WirralCareRecord.Gateway.Launch;

/// <summary>
/// The patient a context launch named, handed to the record page. It travels in the page's address sealed by ASP.NET
/// Core data protection (encrypted and signed, time-limited), so no NHS number reaches an address bar, an access log or
/// browser history, and it opens only for the user the launch signed in.
/// </summary>
/// <param name="BirthDate">The launching system's date of birth for the patient: each source's patient is corroborated against it.</param>
/// <param name="FamilyName">The launching system's family name for the patient, likewise.</param>
public sealed record LaunchContext(string NhsNumber, string? BirthDate, string? FamilyName, string UserId, string OdsCode, string RecordSystemName)
{
    /// <summary>The record page's query parameter carrying the sealed context.</summary>
    public const string Parameter = "launch";

    private const string Purpose = "WirralCareRecord.Launch.Context.v1";

    public static string Seal(IDataProtectionProvider protection, LaunchContext context, TimeSpan lifetime) =>
        protection.CreateProtector(Purpose).ToTimeLimitedDataProtector().Protect(JsonSerializer.Serialize(context), lifetime);

    /// <summary>The context, or null when the value was not sealed by this gateway, was changed, or has expired.</summary>
    public static LaunchContext? Open(IDataProtectionProvider protection, string? sealedContext)
    {
        if (string.IsNullOrEmpty(sealedContext))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LaunchContext>(protection.CreateProtector(Purpose).ToTimeLimitedDataProtector().Unprotect(sealedContext));
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }
}
