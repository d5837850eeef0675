using System.Runtime.InteropServices;
using WirralCareRecord.Demo.Hosting;
using WirralCareRecord.Demo.PracticeSystem;

if (!DemoCommandLine.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(string.IsNullOrEmpty(error) ? DemoCommandLine.Usage : $"{error}{Environment.NewLine}{DemoCommandLine.Usage}");
    return string.IsNullOrEmpty(error) ? 0 : 2;
}

var workFolder = Path.Combine(Environment.CurrentDirectory, ".wcr-demo");
await using var sources = await DemoSourceSet.StartAsync(options);
DemoConsole.PrintSources(sources, options);

if (options.SourcesOnly)
{
    DemoConsole.PrintStopHint();
    var stop = new TaskCompletionSource();
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
    using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
    await stop.Task;
    return 0;
}

// Riverside Medical Centre's own record system, from which the gateway opens by SMART context launch.
await using var practice = new DemoPracticeSystem(WirralCareRecord.Demo.Population.SyntheticPopulation.RiversideMedicalCentre);
await practice.StartAsync();
var seedPath = DemoRegistrySeed.Write(sources, workFolder, practice);
await using var gateway = DemoGateway.Build(options.RemainingArgs, seedPath, workFolder);
await DemoRegistrySeed.StoreDocumentAsync(gateway.Services.GetRequiredService<WirralCareRecord.Gateway.Storage.IBlobStores>());
await gateway.StartAsync();
practice.GatewayUrl = DemoGateway.ListeningUrl(gateway);
DemoConsole.PrintGateway(practice.GatewayUrl);
DemoConsole.PrintPracticeSystem(practice);
DemoConsole.PrintStopHint();
await gateway.WaitForShutdownAsync();
return 0;
