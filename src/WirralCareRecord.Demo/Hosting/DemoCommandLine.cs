using System.Globalization;

namespace WirralCareRecord.Demo.Hosting;

/// <summary>
/// The demo's own options, taken out of the command line; everything else (<c>--urls</c>, <c>--Logging:...</c>)
/// is left for ASP.NET Core configuration.
/// </summary>
internal sealed record DemoCommandLine(TimeSpan Latency, double FaultRate, int RecordSizeMultiplier, bool SourcesOnly, string[] RemainingArgs)
{
    public const string Usage = """
        Usage: dotnet run --project src/WirralCareRecord.Demo [-- options]
          --latency-ms N     each source delays each response by N milliseconds (default 0)
          --fault-rate P     each source answers 500 on fraction P (0..1) of requests (default 0)
          --record-size N    record size multiplier: 1 typical, 3 is ~150 resources per GP record (default 1)
          --sources-only     start the demo sources without the gateway
          --urls URL         where the gateway listens (default http://127.0.0.1:5080)
        """;

    /// <summary>Reads the demo's options; <paramref name="error"/> says what was wrong when it returns false.</summary>
    public static bool TryParse(string[] args, out DemoCommandLine options, out string? error)
    {
        options = new DemoCommandLine(TimeSpan.Zero, 0, 1, false, []);
        error = null;
        var remaining = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inlineValue) = args[i].Split('=', 2) is [var n, var v] ? (n, v) : (args[i], null);
            string? Value() => inlineValue ?? (i + 1 < args.Length ? args[++i] : null);

            switch (name)
            {
                case "--latency-ms":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                    {
                        error = "--latency-ms needs a whole number of milliseconds, 0 or more.";
                        return false;
                    }

                    options = options with { Latency = TimeSpan.FromMilliseconds(ms) };
                    break;
                case "--fault-rate":
                    if (!double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || rate is < 0 or > 1)
                    {
                        error = "--fault-rate needs a fraction from 0 to 1, e.g. 0.1.";
                        return false;
                    }

                    options = options with { FaultRate = rate };
                    break;
                case "--record-size":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var multiplier) || multiplier < 1)
                    {
                        error = "--record-size needs a whole number, 1 or more.";
                        return false;
                    }

                    options = options with { RecordSizeMultiplier = multiplier };
                    break;
                case "--sources-only":
                    options = options with { SourcesOnly = true };
                    break;
                case "--help" or "-h" or "-?":
                    error = "";
                    return false;
                default:
                    remaining.Add(args[i]);
                    break;
            }
        }

        options = options with { RemainingArgs = [.. remaining] };
        return true;
    }
}
