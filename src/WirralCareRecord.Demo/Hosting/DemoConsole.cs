using WirralCareRecord.Demo.Population;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>What the demo tells the person who started it: where everything is, whom to look up, and how.</summary>
internal static class DemoConsole
{
    public static void PrintSources(DemoSourceSet sources, DemoCommandLine options)
    {
        Console.WriteLine();
        Console.WriteLine("Synthetic source systems (FHIR R4):");
        foreach (var (organisation, server) in sources.Sources)
        {
            Console.WriteLine($"  {organisation.OdsCode,-6} {organisation.Name,-58} {server.BaseUrl}  ({server.PatientCount} patients, {server.ResourceCount} resources)");
        }

        if (options.Latency > TimeSpan.Zero || options.FaultRate > 0)
        {
            Console.WriteLine($"  each source adds {options.Latency.TotalMilliseconds:0} ms latency and fails {options.FaultRate * 100:0.#}% of requests");
        }

        Console.WriteLine();
        Console.WriteLine("Demo NHS numbers (synthetic, test range) and the sources holding each:");
        foreach (var person in SyntheticPopulation.People)
        {
            var registered = SyntheticPopulation.Practice(person.RegisteredGpOdsCode);
            var practice = $"{registered.OdsCode} {registered.Name}";
            var line = $"  {person.NhsNumber}  {person.DisplayName,-20} {person.AgeOn(SyntheticPopulation.ReferenceDate),3}  {string.Join(' ', person.HeldBy),-20}  registered with ";
            Console.WriteLine(person.HardCase == DemoHardCase.None ? line + practice : $"{line}{practice,-32}  <- {HardCases.Note(person.HardCase)}");
        }

        Console.WriteLine($"  {SyntheticPopulation.UnknownNhsNumber}  (valid NHS number held by no source)");
    }

    public static void PrintGateway(string gatewayUrl)
    {
        Console.WriteLine();
        Console.WriteLine($"Wirral Care Record gateway: {gatewayUrl}");
        Console.WriteLine();
        Console.WriteLine("Try:");
        Console.WriteLine($"export TOKEN=$(curl -s '{gatewayUrl}/dev/token?role=Clinician&ods=N85001&format=jwt')");
        Console.WriteLine($"curl -s -H \"Authorization: Bearer $TOKEN\" '{gatewayUrl}/fhir/Patient/$wcr-getrecord?patientNHSNumber={SyntheticPopulation.People[0].NhsNumber}'");
        Console.WriteLine();
    }

    public static void PrintPracticeSystem(PracticeSystem.DemoPracticeSystem practice)
    {
        Console.WriteLine($"{practice.Practice.Name}'s practice system (a SMART on FHIR EHR): {practice.Url}/");
        Console.WriteLine("  Open it in a browser and press \"Wirral Care Record\" beside a patient: the gateway opens that patient's combined");
        Console.WriteLine("  record by context launch, nothing typed. The gateway's own pages (sign in, then Find a record) are at the address above.");
        Console.WriteLine();
    }

    public static void PrintStopHint() => Console.WriteLine("Press Ctrl+C to stop.");
}
