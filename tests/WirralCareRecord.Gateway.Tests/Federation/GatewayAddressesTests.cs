using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.SourceAnswers;

namespace WirralCareRecord.Gateway.Tests.Federation;

/// <summary>A source's own addresses never leave the gateway, wherever in a resource they sit.</summary>
public sealed class GatewayAddressesTests
{
    private const string SourceBase = "https://gp.example.nhs.uk/fhir";
    private const string GatewayBase = "https://wcr.example/sources/N85001/fhir";

    private static AddressRewriter Rewriter { get; } = new(new SourceLocation(new Uri(SourceBase), GatewayBase));

    [Fact]
    public void Rewrite_ReferencesInElementsExtensionsAndPrimitiveExtensions_AllPointAtTheGateway()
    {
        var onset = new FhirDateTime("2024-03-01");
        onset.Extension.Add(new Extension("https://example.org/recorded-at", new ResourceReference($"{SourceBase}/Encounter/e1")));
        var condition = new Condition
        {
            Id = "c1",
            Subject = new ResourceReference($"{SourceBase}/Patient/p1"),
            Onset = onset,
            Extension = [new Extension("https://example.org/asserted-by", new ResourceReference($"{SourceBase}/Practitioner/pr1"))],
            Note = [new Annotation { Author = new ResourceReference("Practitioner/pr2"), Text = new Markdown("seen") }],
        };

        condition = Rewritten(condition);

        Assert.Equal($"{GatewayBase}/Patient/p1", condition.Subject.Reference);
        Assert.Equal($"{GatewayBase}/Practitioner/pr1", Assert.IsType<ResourceReference>(condition.Extension[0].Value).Reference);
        Assert.Equal($"{GatewayBase}/Encounter/e1", Assert.IsType<ResourceReference>(Assert.IsType<FhirDateTime>(condition.Onset).Extension[0].Value).Reference);
        // Relative references resolve against the entry's fullUrl, which is already the gateway's.
        Assert.Equal("Practitioner/pr2", Assert.IsType<ResourceReference>(condition.Note[0].Author).Reference);
    }

    [Fact]
    public void Rewrite_AnyAddressOnTheSourcesHost_PointsAtTheGatewayWhileOtherServersAreLeftAlone()
    {
        var document = new DocumentReference
        {
            Id = "d1",
            Content =
            [
                new DocumentReference.ContentComponent { Attachment = new Attachment { Url = $"{SourceBase}/Binary/b1" } },
                new DocumentReference.ContentComponent { Attachment = new Attachment { Url = "https://gp.example.nhs.uk/fhirother/Binary/b2" } },
                new DocumentReference.ContentComponent { Attachment = new Attachment { Url = "https://elsewhere.example/fhir/Binary/b3" } },
            ],
            Description = "Scanned from https://gp.example.nhs.uk/scans/letter.pdf",
        };

        document = Rewritten(document);

        Assert.Equal($"{GatewayBase}/Binary/b1", document.Content[0].Attachment.Url);
        // At the server root or beside the FHIR base, an address on the source's host is still the source's.
        Assert.Equal($"{GatewayBase}/fhirother/Binary/b2", document.Content[1].Attachment.Url);
        Assert.Equal("https://elsewhere.example/fhir/Binary/b3", document.Content[2].Attachment.Url);
        Assert.Equal($"Scanned from {GatewayBase}/scans/letter.pdf", document.Description);
    }

    /// <summary>The resource as the combined record writes it: its JSON copied with the source's addresses rewritten.</summary>
    private static T Rewritten<T>(T resource)
        where T : Resource
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        Rewriter.Copy(FhirJson.SerializeToUtf8(resource), output);
        return (T)System.Text.Json.JsonSerializer.Deserialize<Resource>(output.WrittenSpan, FhirJson.Lenient)!;
    }
}
