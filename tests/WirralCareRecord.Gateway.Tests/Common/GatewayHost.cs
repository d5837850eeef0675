using System.Net.Http.Headers;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using OpenTelemetry.Trace;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Authentication;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Onboarding;
using WirralCareRecord.Gateway.Storage;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>
/// The real gateway (Program) on the ASP.NET Core test server, signed in through <see cref="TestIssuer"/>, federating
/// the given WireMock sources, with its registry seed and audit log in a fresh temporary folder.
/// </summary>
public sealed class GatewayHost : WebApplicationFactory<Program>
{
    private readonly TestIssuer _issuer;
    private readonly string _environment;
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly Lock _starting = new();

    /// <param name="services">Test-only replacements, applied after the gateway's own registrations.</param>
    public GatewayHost(
        TestIssuer issuer,
        IReadOnlyList<FhirSource> sources,
        Action<RegistryDocument>? editRegistry = null,
        Dictionary<string, string?>? settings = null,
        string environment = "Testing",
        Action<IServiceCollection>? services = null)
    {
        _issuer = issuer;
        _environment = environment;
        _services = services;
        Folder = Directory.CreateTempSubdirectory("wcr-tests-").FullName;
        var registry = DefaultRegistry(sources);
        editRegistry?.Invoke(registry);
        RegistryPath = Path.Combine(Folder, "registry.json");
        File.WriteAllText(RegistryPath, JsonSerializer.Serialize(registry, RegistryDocument.JsonOptions));
        _settings = new Dictionary<string, string?>
        {
            ["Registry:SeedPath"] = RegistryPath,
            ["Audit:InstanceId"] = "test-instance",
            ["Storage:LocalFolder"] = Path.Combine(Folder, "storage"),
            ["Registry:AllowHttpSources"] = "true",
            ["AzureAd:Instance"] = issuer.Instance,
            ["AzureAd:TenantId"] = TestIssuer.TenantId,
            ["AzureAd:ClientId"] = TestIssuer.ClientId,
            ["Federation:SourceTimeout"] = "00:00:05",
            // The tests' in-memory span exporter needs tracing on, which is otherwise on only with an OTLP endpoint.
            [TelemetryFeature.TracesKey] = "true",
            // Production refuses the locator's development key; a test rig's own key lets Production-environment hosts start.
            ["Locator:NameKey"] = "test-rig-locator-name-key-0123456789abcdef",
        };
        for (var i = 0; i < TestPatients.Count; i++)
        {
            _settings[$"Registry:TestPatients:{i}"] = TestPatients[i];
        }

        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    public string Folder { get; }

    public string RegistryPath { get; }

    /// <summary>The Audit container's folder when storage is local (the default): <c>Storage:LocalFolder/wcr-audit</c>.</summary>
    public string AuditFolder => Path.Combine(_settings["Storage:LocalFolder"]!, (_settings.GetValueOrDefault("Storage:ContainerPrefix") ?? "wcr-") + "audit");

    /// <summary>The gateway's application logs, at the level operators run it (Information).</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>Every span the gateway finished, as an OpenTelemetry exporter receives it.</summary>
    public SpanCollection Spans { get; } = new();

    /// <summary>The designated test patients flow tests may fetch in these hosts (<c>Registry:TestPatients</c>).</summary>
    public static IReadOnlyList<string> TestPatients { get; } = ["9000000009", "9000000017", "9000000041"];

    /// <summary>A signed agreement document as the registry records it once uploaded (the blob itself is not needed to share).</summary>
    public static AgreementDocument SignedDocument { get; } = new(
        "WCR-DSA-TEST/v1/signed.pdf", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("signed"u8)), 1024, "application/pdf", DateTimeOffset.UtcNow.AddDays(-30), "seed");

    /// <summary>A registry in which every source is live and all of them share with each other (and with N85001) under one signed agreement.</summary>
    public static RegistryDocument DefaultRegistry(IReadOnlyList<FhirSource> sources)
    {
        var members = sources.Select(s => s.OdsCode).Append("N85001").Distinct().ToList();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var file = new RegistryDocument
        {
            Organisations = [.. sources.Select(s => new RegistryDocument.OrganisationEntry
            {
                OdsCode = s.OdsCode, Name = s.Name, Kind = s.Kind, FhirBaseUrl = s.BaseUrl, Phase = 1, State = LifecycleState.Live,
            })],
            Agreements =
            [
                new RegistryDocument.AgreementEntry
                {
                    Id = "WCR-DSA-TEST", Version = "1.0", Providers = members, Consumers = members, SignedBy = "IG lead",
                    SignedOn = today.AddDays(-30), EffectiveFrom = today.AddDays(-30), Expires = today.AddYears(1), Document = SignedDocument,
                },
            ],
        };
        if (!sources.Any(s => s.OdsCode == "N85001"))
        {
            file.Organisations.Add(new RegistryDocument.OrganisationEntry
            {
                OdsCode = "N85001", Name = "Consumer practice", Kind = OrganisationKind.GpPractice, FhirBaseUrl = "http://127.0.0.1:9/fhir", Phase = 1, State = LifecycleState.AgreementSigned,
            });
        }

        return file;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        // Read while the gateway is composed, before the configuration above is applied: given as a host setting too.
        builder.UseSetting(TelemetryFeature.TracesKey, _settings[TelemetryFeature.TracesKey]);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureTestServices(services =>
        {
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
            _services?.Invoke(services);

            // Test-only: the issuer is WireMock on plain http, which Microsoft.Identity.Web refuses by default (see NOTES.md).
            // Configure runs before JwtBearer's own post-configuration, which would otherwise insist on https.
            services.Configure<JwtBearerOptions>(AuthenticationFeature.EntraScheme, jwt =>
            {
                jwt.RequireHttpsMetadata = false;
                jwt.MetadataAddress = _issuer.MetadataAddress;
                jwt.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                    _issuer.MetadataAddress, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever { RequireHttps = false });
            });

            // Microsoft.Identity.Web's own issuer validator fetches Entra metadata over https; trust the test issuer instead.
            services.PostConfigure<JwtBearerOptions>(AuthenticationFeature.EntraScheme, jwt =>
            {
                jwt.TokenValidationParameters.IssuerValidator = null;
                jwt.TokenValidationParameters.ValidIssuer = _issuer.Issuer;
            });
        });
    }

    public HttpClient CreateClient(string? token)
    {
        HttpClient client;
        // WebApplicationFactory starts its server on first use without a lock: clients made at once from several threads
        // each started a gateway of their own, with its own registry, so a change made through one reached the others
        // only by polling storage.
        lock (_starting)
        {
            client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        }

        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>
    /// Every AuditEvent written so far, in recorded order, read back from the Audit container's NDJSON blobs (a local
    /// folder or Azurite, whichever the gateway was given) as an auditor's export would read them.
    /// </summary>
    public IReadOnlyList<AuditEvent> AuditEvents() => Task.Run(async () =>
    {
        var store = Services.GetRequiredService<IBlobStores>()[StorageContainer.Audit];
        var events = new List<AuditEvent>();
        await foreach (var name in store.ListAsync("", CancellationToken.None))
        {
            if (!name.EndsWith(".ndjson", StringComparison.Ordinal))
            {
                continue;
            }

            var blob = await store.ReadAsync(name, CancellationToken.None);
            events.AddRange(blob!.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonSerializer.Deserialize<AuditEvent>(line, FhirJson.Strict)!));
        }

        return (IReadOnlyList<AuditEvent>)[.. events.OrderBy(e => e.Recorded)];
    }).GetAwaiter().GetResult();

    /// <summary>
    /// Makes the audit log unwritable (local storage only) until the result is disposed: a file stands where the Audit
    /// container's folder should be, and anything already written is moved aside and put back afterwards.
    /// </summary>
    public IDisposable BreakAuditStorage()
    {
        var aside = AuditFolder + ".aside";
        if (Directory.Exists(AuditFolder))
        {
            Directory.Move(AuditFolder, aside);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(AuditFolder)!);
        File.WriteAllText(AuditFolder, "a file where the audit container's folder should be");
        return new Restore(() =>
        {
            File.Delete(AuditFolder);
            if (Directory.Exists(aside))
            {
                Directory.Move(aside, AuditFolder);
            }
        });
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow machine; the OS cleans temp folders.
        }
    }
}
