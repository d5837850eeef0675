using System.Runtime.InteropServices;
using WirralCareRecord.Demo.Hosting;

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

var seedPath = DemoRegistrySeed.Write(sources, workFolder);
await using var gateway = DemoGateway.Build(options.RemainingArgs, seedPath, Path.Combine(workFolder, "storage"));
await gateway.StartAsync();
DemoConsole.PrintGateway(DemoGateway.ListeningUrl(gateway));
DemoConsole.PrintStopHint();
await gateway.WaitForShutdownAsync();
return 0;
