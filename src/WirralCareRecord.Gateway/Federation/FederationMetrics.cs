using System.Diagnostics;
using System.Diagnostics.Metrics;
using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Federation;

/// <summary>
/// The locator's and fetch strategies' metrics, on the gateway's meter (<see cref="GatewayTelemetry.Name"/>, already
/// exported): how many sources a read contacts and how many calls each took. Tags are ODS codes and codes only.
/// </summary>
internal sealed class FederationMetrics
{
    private readonly Histogram<int> _callsPerSource;
    private readonly Histogram<int> _sourcesContacted;
    private readonly Counter<long> _selections;

    public FederationMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(GatewayTelemetry.Name);
        _callsPerSource = meter.CreateHistogram<int>("wcr.source.calls", "{call}", "Calls made to one source for one read, by fetch strategy.");
        _sourcesContacted = meter.CreateHistogram<int>("wcr.read.sources_contacted", "{source}", "Sources contacted for one read or sweep, by how they were chosen.");
        _selections = meter.CreateCounter<long>("wcr.locator.selections", description: "Reads by how their sources were chosen (locator, sweep, first-read, locator-unavailable, disabled).");
    }

    public void RecordSourceCalls(string odsCode, FetchStrategy? strategy, int calls) =>
        _callsPerSource.Record(calls, new TagList { { "wcr.source.ods", odsCode }, { "wcr.source.strategy", strategy is { } s ? SourceCapability.Code(s) : "none" } });

    public void RecordRead(string selection, int sourcesContacted)
    {
        var tags = new TagList { { "wcr.locator.selection", selection } };
        _sourcesContacted.Record(sourcesContacted, tags);
        _selections.Add(1, tags);
    }
}
