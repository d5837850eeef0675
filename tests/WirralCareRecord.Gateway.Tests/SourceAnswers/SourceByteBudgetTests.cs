using System.Globalization;
using System.Net;
using System.Text;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.SourceAnswers;
using WirralCareRecord.Gateway.Tests.Common;

namespace WirralCareRecord.Gateway.Tests.SourceAnswers;

/// <summary>
/// The gateway-wide budget for source bytes (Federation:MaxBufferedSourceBytes), on the real gateway over WireMock
/// sources: a full budget is the gateway's own limit, said as such on both routes and never held against a source, and
/// every way a read can end (answered, refused, too large, unreadable, abandoned, unaudited) gives its buffers back, or
/// the budget would leak away a read at a time until the gateway answered nothing.
/// </summary>
public sealed class SourceByteBudgetTests : IDisposable
{
    private const string Nhs = "9000000009";
    private readonly TestIssuer _issuer = new();
    private readonly FhirSource _acute = new("RBL", "Wirral University Teaching Hospital", OrganisationKind.AcuteTrust);

    public SourceByteBudgetTests()
    {
        var patient = FhirSource.NewPatient("pas-1", Nhs);
        _acute.WithPatient(patient, ClinicalData.Condition("c1", "pas-1"), ClinicalData.Condition("c2", "pas-1"));
    }

    private static Dictionary<string, string?> Budget(int megabytes, string wait = "00:00:00") => new()
    {
        ["Federation:MaxSourceResponseBytes"] = (1024 * 1024).ToString(CultureInfo.InvariantCulture),
        ["Federation:MaxBufferedSourceBytes"] = (megabytes * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        ["Federation:SourceBufferWait"] = wait,
        ["Federation:BreakerMinimumThroughput"] = "2",
    };

    [Fact]
    public async Task FullBudget_IsTheGatewayBusyOnBothRoutes_AndIsNeverHeldAgainstTheSource()
    {
        using var host = new GatewayHost(_issuer, [_acute], settings: Budget(2));
        var client = host.CreateClient(_issuer.CreateToken());
        var pool = host.Services.GetRequiredService<SourceBufferPool>();
        var held = await HoldEverythingAsync(pool);

        using var route = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");
        var routeText = (await FhirAssert.OutcomeAsync(route, HttpStatusCode.ServiceUnavailable)).Text();
        Assert.Contains("gateway is busy", routeText, StringComparison.Ordinal);
        Assert.Equal("2", route.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        // More busy reads than the breaker needs to open, had they counted as the source failing.
        for (var i = 0; i < 4; i++)
        {
            using var federated = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
            var text = (await FhirAssert.OutcomeAsync(federated, HttpStatusCode.BadGateway)).Text();
            Assert.Contains("Federation:MaxBufferedSourceBytes", text, StringComparison.Ordinal);
        }

        Assert.Contains(host.AuditEvents(), e => e.Entity.Any(x => x.What?.Identifier?.Value == "RBL" && x.Description == "failed"));
        foreach (var block in held)
        {
            pool.Return(block);
        }

        var record = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}"), HttpStatusCode.OK);
        Assert.Equal(["c1", "c2"], record.Entry.Select(e => e.Resource).OfType<Condition>().Select(c => c.Id).Order(StringComparer.Ordinal));
        var search = await FhirAssert.ReadAsync<Bundle>(await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1"), HttpStatusCode.OK);
        Assert.Equal(2, search.Entry.Count);
        await AssertAllGivenBackAsync(pool);
    }

    [Fact]
    public async Task FullBudget_AReadWaitsForRoom_AndGoesOnWhenAnotherReadFinishes()
    {
        using var host = new GatewayHost(_issuer, [_acute], settings: Budget(2, wait: "00:01:00"));
        var client = host.CreateClient(_issuer.CreateToken());
        var pool = host.Services.GetRequiredService<SourceBufferPool>();
        var held = await HoldEverythingAsync(pool);

        var reading = client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
        await Task.Delay(200);
        Assert.False(reading.IsCompleted);
        foreach (var block in held)
        {
            pool.Return(block);
        }

        using var response = await reading.WaitAsync(TimeSpan.FromSeconds(60));
        await FhirAssert.ReadAsync<Bundle>(response, HttpStatusCode.OK);
        await AssertAllGivenBackAsync(pool);
    }

    [Fact]
    public async Task EveryWayAReadEnds_GivesItsBuffersBack()
    {
        var huge = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[],\"padding\":\"").Append('x', 2 * 1024 * 1024).Append("\"}").ToString();
        _acute.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Observation").WithParam("patient", "pas-1")).AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json").WithBody(huge));
        _acute.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Procedure").WithParam("patient", "pas-1")).AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json").WithBody("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":"));
        _acute.Server.Given(Request.Create().UsingGet().WithPath("/fhir/Immunization").WithParam("patient", "pas-1")).AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/fhir+json").WithBody("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}").WithDelay(TimeSpan.FromSeconds(2)));
        using var host = new GatewayHost(_issuer, [_acute], settings: Budget(4));
        var client = host.CreateClient(_issuer.CreateToken());
        var pool = host.Services.GetRequiredService<SourceBufferPool>();

        // Decided, but the audit could not be written (first, before the log has a file open): nothing goes out, and
        // the buffers still come back.
        using (host.BreakAuditStorage())
        {
            using var route = await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1");
            using var federated = await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, route.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, federated.StatusCode);
        }

        // Answered, item by item and by search; over the cap; not JSON FHIR can read; not found.
        (await client.GetAsync("/sources/RBL/fhir/Condition?patient=pas-1")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Condition/c1")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Observation?patient=pas-1")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Procedure?patient=pas-1")).Dispose();
        (await client.GetAsync("/sources/RBL/fhir/Condition/absent")).Dispose();
        (await client.GetAsync($"/fhir/Patient/$wcr-getrecord?patientNHSNumber={Nhs}")).Dispose();
        // Abandoned by the caller while the source is still answering.
        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("/sources/RBL/fhir/Immunization?patient=pas-1", impatient.Token));
        }

        await AssertAllGivenBackAsync(pool);
    }

    private static async Task<List<byte[]>> HoldEverythingAsync(SourceBufferPool pool)
    {
        var held = new List<byte[]>();
        while (held.Count * (long)SourceBufferPool.BlockSize < pool.BudgetBytes)
        {
            held.Add(await pool.RentForAnswerAsync(CancellationToken.None));
        }

        return held;
    }

    /// <summary>Buffers come back once the answer has gone, which may be just after the client has it.</summary>
    private static async Task AssertAllGivenBackAsync(SourceBufferPool pool)
    {
        for (var i = 0; i < 200 && pool.HeldBytes != 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, pool.HeldBytes);
    }

    public void Dispose()
    {
        _acute.Dispose();
        _issuer.Dispose();
    }
}
