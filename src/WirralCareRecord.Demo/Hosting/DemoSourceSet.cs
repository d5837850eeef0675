using WirralCareRecord.Demo.Population;
using WirralCareRecord.Demo.Sources;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>The demo sources, started together with the same behaviour and stopped together.</summary>
internal sealed class DemoSourceSet : IAsyncDisposable
{
    private DemoSourceSet(IReadOnlyList<(DemoOrganisation Organisation, DemoSourceServer Server)> sources) => Sources = sources;

    public IReadOnlyList<(DemoOrganisation Organisation, DemoSourceServer Server)> Sources { get; }

    public static async Task<DemoSourceSet> StartAsync(DemoCommandLine options, CancellationToken cancellationToken = default)
    {
        var started = new List<(DemoOrganisation, DemoSourceServer)>();
        try
        {
            foreach (var organisation in SyntheticPopulation.Organisations)
            {
                var server = new DemoSourceServer(DemoSourceOptions.For(organisation) with
                {
                    Latency = options.Latency,
                    FaultRate = options.FaultRate,
                    RecordSizeMultiplier = options.RecordSizeMultiplier,
                });
                started.Add((organisation, server));
                await server.StartAsync(cancellationToken);
            }
        }
        catch
        {
            foreach (var (_, server) in started)
            {
                await server.DisposeAsync();
            }

            throw;
        }

        return new DemoSourceSet(started);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, server) in Sources)
        {
            await server.DisposeAsync();
        }
    }
}
