using WirralCareRecord.Demo.Population;
using WirralCareRecord.Demo.Sources;

namespace WirralCareRecord.Benchmarks;

/// <summary>Demo source servers that each hold one synthetic person with a typical record (about 150 resources).</summary>
internal sealed class BenchSources : IAsyncDisposable
{
    private BenchSources(List<(string Ods, DemoSourceServer Server)> servers, SyntheticPerson person, int resources)
    {
        Servers = servers;
        Person = person;
        ResourcesPerSource = resources;
    }

    public List<(string Ods, DemoSourceServer Server)> Servers { get; }

    public SyntheticPerson Person { get; }

    /// <summary>The servers as registry members, for a gateway started out of process.</summary>
    public IReadOnlyList<BenchSource> Members => [.. Servers.Select(s => new BenchSource(s.Ods, s.Server.BaseUrl))];

    /// <summary>Resources each source holds for the person, the Patient included.</summary>
    public int ResourcesPerSource { get; }

    /// <summary>
    /// Every source serves the same GP record (the demo population's record for N85001) under its own ODS code in the
    /// gateway's registry, so each has the same size and the merge links the same items across all of them.
    /// </summary>
    public static async Task<BenchSources> StartAsync(int count, TimeSpan latency, int target = 150, bool revInclude = true)
    {
        var (person, multiplier, resources) = TypicalRecord(target);
        var servers = new List<(string, DemoSourceServer)>();
        for (var i = 1; i <= count; i++)
        {
            var server = new DemoSourceServer(new DemoSourceOptions("N85001", "Bench source") { Latency = latency, ReplayAnswers = true, OfferRevInclude = revInclude, RecordSizeMultiplier = multiplier, People = [person] });
            await server.StartAsync();
            servers.Add(($"S{i:00}", server));
        }

        return new BenchSources(servers, person, resources);
    }

    /// <summary>The person and record size whose GP record comes nearest to <paramref name="target"/> resources.</summary>
    public static (SyntheticPerson Person, int Multiplier, int Resources) TypicalRecord(int target)
    {
        var best = (Person: (SyntheticPerson?)null, Multiplier: 1, Resources: 0);
        foreach (var multiplier in new[] { 1, 2, 3, 4 })
        {
            foreach (var person in SyntheticPopulation.People.Where(p => p.IsHeldBy("N85001") && p.HardCase == DemoHardCase.None))
            {
                var count = SyntheticPopulation.RecordsFor("N85001", [person], multiplier).Count;
                if (best.Person is null || Math.Abs(count - target) < Math.Abs(best.Resources - target))
                {
                    best = (person, multiplier, count);
                }
            }
        }

        return (best.Person!, best.Multiplier, best.Resources);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, server) in Servers)
        {
            await server.DisposeAsync();
        }
    }
}
