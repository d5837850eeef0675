using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Audit;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Tests.Audit;

/// <summary>
/// The audit line written directly (<see cref="AuditEventFactory.Write"/>) against the same access built with the Firely
/// SDK's objects and serialised (<see cref="SdkAuditEvent"/>): the same JSON, and read back by the SDK as the same event.
/// </summary>
public sealed class AuditEventWriterTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 10, 30, 15, 123, TimeSpan.Zero);

    public static TheoryData<string> Accesses => [.. Cases.Keys];

    private static Dictionary<string, AuditEntry> Cases { get; } = new()
    {
        ["federated read, every part"] = new(
            new AccessAudit(
                AccessKind.FederatedRead, "corr-1", "user-1", "Dr Siân O'Brien-Ñúñez \"<b>\"", ["Clinician", "Nurse"], "N85001", "TREAT", "9000000009",
                "GET /fhir/Patient/$wcr-getrecord?patientNHSNumber=9000000009", 200, null,
                [new SourceAuditEntry("RBL", "returned", 150, 2, 3), new SourceAuditEntry("N85002", "no-match", 0, 0, 1), new SourceAuditEntry("XX999", "timed-out", 0, 0, 1)],
                "Unconscious patient in ED, no other history \u2014 \u00e9\t\n")
            { Channel = AccessChannel.ContextLaunch },
            At,
            "gw-1",
            ods => ods switch { "RBL" => OrganisationKind.AcuteTrust, "N85002" => OrganisationKind.GpPractice, _ => null }),
        ["unidentified refusal"] = new(
            new AccessAudit(AccessKind.FederatedRead, "corr-2", null, null, [], null, "TREAT", null, "GET /fhir/Patient/$wcr-getrecord", 401, "Sign-in is required", []),
            new DateTimeOffset(2026, 12, 5, 23, 59, 59, TimeSpan.Zero),
            "gw-2"),
        ["source read, failed source"] = new(
            new AccessAudit(
                AccessKind.SourceRead, "corr-3", "user-3", "Nurse Jones", ["Clinician"], "RY7", "TREAT", "9000000017", "GET /fhir/source/RBL/Observation?patient=x", 502, "The source failed",
                [new SourceAuditEntry("RBL", "failed", 0, 0, 1)])
            { Channel = AccessChannel.GatewayPages },
            new DateTimeOffset(2026, 6, 1, 9, 0, 0, 5, TimeSpan.FromHours(1)),
            "gw-3"),
        ["admin action"] = new(
            new AccessAudit(AccessKind.AdminAction, "corr-4", "admin-1", "Onboarding Lead", ["OnboardingAdmin"], null, "HOPERAT", null, "PUT /admin/organisations/N85001", 204, "Connection change proposed", [], Subject: "Organization/N85001"),
            At.AddTicks(1),
            "gw-1"),
        ["auditor query"] = new(
            new AccessAudit(AccessKind.AuditorQuery, "corr-5", "auditor-1", "Caldicott Guardian", ["Auditor"], "RBL", "HOPERAT", "9000000009", "GET /audit/AuditEvent?patient=9000000009", 200, null, []),
            At,
            "gw-1"),
    };

    [Theory]
    [MemberData(nameof(Accesses))]
    public void WrittenLine_IsTheSdkBuiltEvent(string access)
    {
        // Arrange
        var entry = Cases[access];
        var previousHash = SHA256.HashData([1, 2, 3]);

        // Act
        var written = Write(entry, previousHash);
        var sdk = JsonSerializer.SerializeToUtf8Bytes(SdkAuditEvent.Create(entry, previousHash), FhirJson.Strict);

        // Assert: the same JSON, property by property, and the SDK reads the written line (strictly) as the same event.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sdk), JsonNode.Parse(written)), $"written:\n{System.Text.Encoding.UTF8.GetString(written)}\nSDK:\n{System.Text.Encoding.UTF8.GetString(sdk)}");
        var readBack = JsonSerializer.Deserialize<AuditEvent>(written, FhirJson.OwnOutput)!;
        Assert.Equal(System.Text.Encoding.UTF8.GetString(sdk), FhirJson.Serialize(readBack));
    }

    [Fact]
    public void WrittenLine_CarriesTheLinkTheChainReads()
    {
        // Arrange
        var entry = Cases["federated read, every part"];
        var previousHash = SHA256.HashData([9]);

        // Act
        var written = Write(entry, previousHash);

        // Assert
        Assert.True(AuditChain.TryReadLink(written, out var id, out var link));
        Assert.Equal(entry.Id, id);
        Assert.Equal(previousHash, link);
    }

    [Fact]
    public void EmptyStrings_AreLeftOut_SoTheLineStaysReadable()
    {
        // Arrange: FHIR has no empty strings; a caller whose token gave an empty name or organisation must not make an unreadable line.
        var entry = new AuditEntry(
            new AccessAudit(AccessKind.FederatedRead, "corr-6", "", "", ["Clinician"], "", "TREAT", "", "GET /fhir/Patient/$wcr-getrecord", 400, "", [], Subject: ""),
            At,
            "gw-1");

        // Act
        var readBack = JsonSerializer.Deserialize<AuditEvent>(Write(entry, new byte[32]), FhirJson.OwnOutput)!;

        // Assert
        Assert.Equal("unidentified", readBack.Agent[0].Who.Identifier.Value);
        Assert.Null(readBack.Agent[0].Who.Display);
        Assert.Equal(2, readBack.Agent.Count);
        Assert.Equal("HTTP 400", readBack.OutcomeDesc);
        Assert.Single(readBack.Entity);
    }

    private static byte[] Write(AuditEntry entry, byte[] previousHash)
    {
        var line = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(line))
        {
            AuditEventFactory.Write(json, entry, previousHash);
        }

        return line.WrittenSpan.ToArray();
    }
}
