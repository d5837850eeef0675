using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using WirralCareRecord.Demo.Population;

namespace WirralCareRecord.Demo.Sources;

/// <summary>
/// A synthetic FHIR R4 source system on its own Kestrel server at <c>http://127.0.0.1:{free port}/fhir</c>,
/// serving one demo organisation's records. Used by the demo, and by anything else (benchmarks, tests) that
/// needs realistic sources with controllable latency and faults.
/// </summary>
public sealed class DemoSourceServer : IAsyncDisposable
{
    private WebApplication? _app;
    private Uri? _baseUrl;

    public DemoSourceServer(DemoSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Latency, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RecordSizeMultiplier, 1, nameof(options));
        if (options.FaultRate is < 0 or > 1 || double.IsNaN(options.FaultRate))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.FaultRate, "FaultRate is a fraction of requests, from 0 to 1.");
        }

        Options = options;
    }

    public DemoSourceOptions Options { get; }

    /// <summary>The FHIR base, e.g. <c>http://127.0.0.1:41234/fhir</c>, without a trailing slash. Known once started.</summary>
    public Uri BaseUrl => _baseUrl ?? throw new InvalidOperationException($"The {Options.OdsCode} source has not been started.");

    /// <summary>How many resources, Patients included, the source holds. Known once started.</summary>
    public int ResourceCount { get; private set; }

    /// <summary>How many Patients the source holds. Known once started.</summary>
    public int PatientCount { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException($"The {Options.OdsCode} source is already started.");
        }

        var store = new SourceRecordStore(SyntheticPopulation.RecordsFor(Options.OdsCode, Options.People ?? SyntheticPopulation.People, Options.RecordSizeMultiplier));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DemoSourceServer).Assembly.GetName().Name,
            Args = [],
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // The owner stops the source, after the gateway has drained; Ctrl+C must not take sources away first.
        builder.Services.AddSingleton<IHostLifetime, OwnerControlledLifetime>();

        var app = builder.Build();
        var replay = Options.ReplayAnswers ? new AnswerReplay() : null;
        var faults = new FaultInjector(Options.FaultRate, Options.FaultSeed ^ SyntheticPopulation.StableHash(Options.OdsCode));
        app.Use(async (context, next) =>
        {
            if (Options.Latency > TimeSpan.Zero)
            {
                await Task.Delay(Options.Latency, context.RequestAborted);
            }

            if (faults.NextRequestFails())
            {
                await FhirResponse.Outcome(StatusCodes.Status500InternalServerError, OperationOutcome.IssueType.Exception,
                    $"Synthetic fault injected by the {Options.OdsCode} demo source (fault rate {Options.FaultRate:0.###}).").ExecuteAsync(context);
                return;
            }

            if (replay is not null && HttpMethods.IsGet(context.Request.Method))
            {
                await replay.AnswerAsync(context, next);
                return;
            }

            await next(context);
        });
        app.MapFhirSource(store, Options, () => BaseUrl);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        _baseUrl = new Uri($"{address.TrimEnd('/')}/fhir");
        ResourceCount = store.Count;
        PatientCount = store.PatientCount;
        _app = app;
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>Decides which requests fail, from a seeded sequence so a faulty run can be repeated.</summary>
    private sealed class FaultInjector(double rate, int seed)
    {
        private readonly Random _random = new(seed);
        private readonly Lock _lock = new();

        public bool NextRequestFails()
        {
            if (rate <= 0)
            {
                return false;
            }

            lock (_lock)
            {
                return _random.NextDouble() < rate;
            }
        }
    }

    /// <summary>Successful GET answers by path and query, written once by the real endpoints and replayed byte for byte.</summary>
    private sealed class AnswerReplay
    {
        private readonly ConcurrentDictionary<string, (string ContentType, byte[] Body)> _answers = new(StringComparer.Ordinal);

        public async Task AnswerAsync(HttpContext context, RequestDelegate next)
        {
            var key = context.Request.Path + context.Request.QueryString;
            if (_answers.TryGetValue(key, out var answer))
            {
                context.Response.ContentType = answer.ContentType;
                context.Response.ContentLength = answer.Body.Length;
                await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted);
                return;
            }

            var original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = original;
            }

            if (context.Response.StatusCode == StatusCodes.Status200OK && context.Response.ContentType is { } contentType)
            {
                _answers.TryAdd(key, (contentType, buffer.ToArray()));
            }

            buffer.Position = 0;
            await buffer.CopyToAsync(original, context.RequestAborted);
        }
    }

    private sealed class OwnerControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
