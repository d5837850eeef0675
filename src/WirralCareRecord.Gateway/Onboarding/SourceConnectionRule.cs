using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// How the gateway may reach a source: https outside Development (patient data never crosses a network in clear) and,
/// in Production, with outbound authentication. Checked when an
/// organisation is registered or changed, and on the whole registry at start-up.
/// </summary>
public sealed class SourceConnectionRule(IHostEnvironment environment, IOptions<RegistryOptions> options)
{
    public bool AllowsHttp => environment.IsDevelopment() || (options.Value.AllowHttpSources && !environment.IsProduction());

    /// <summary>Why <paramref name="url"/> cannot be a source's FHIR base, or null when it can.</summary>
    public string? Problem(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp))
        {
            return $"'{url}' is not an absolute https URL.";
        }

        if (parsed.Scheme == Uri.UriSchemeHttp && !AllowsHttp)
        {
            return $"'{url}' is plain http; source URLs must be https outside Development.";
        }

        return string.IsNullOrEmpty(parsed.Query) && string.IsNullOrEmpty(parsed.Fragment) ? null : $"'{url}' must not carry a query or fragment.";
    }

    /// <summary>Why this environment must not call a source configured with <paramref name="authentication"/>, or null.</summary>
    public string? AuthenticationProblem(Federation.SourceAuthentication authentication) =>
        authentication.Mode == Federation.SourceAuthenticationMode.None && environment.IsProduction()
            ? "authentication.mode None is for Development and test rigs only; in Production a source needs ClientCredentials or MutualTls."
            : authentication.Problems() is { Count: > 0 } problems ? string.Join(" ", problems)
            : authentication.TokenEndpoint is { } endpoint && Problem(endpoint.ToString()) is { } endpointProblem ? "authentication.tokenEndpoint: " + endpointProblem
            : null;

    /// <summary>
    /// Why an admin may not give <paramref name="odsCode"/> this outbound authentication, beyond <see cref="AuthenticationProblem"/>:
    /// a token endpoint receives the client secret, so it must be https and on <see cref="RegistryOptions.AllowedTokenEndpointHosts"/>;
    /// secret and certificate names must be the organisation's own (<c>{ODS}</c> or <c>{ODS}-...</c>), so one source's
    /// secret can never be pointed at another's system. Empty when there is nothing wrong.
    /// </summary>
    public IReadOnlyList<string> AdminProblems(string odsCode, Federation.SourceAuthentication authentication)
    {
        var problems = new List<string>();
        if (authentication.TokenEndpoint is { } endpoint)
        {
            if (!endpoint.IsAbsoluteUri || endpoint.Scheme != Uri.UriSchemeHttps)
            {
                problems.Add($"authentication.tokenEndpoint must be https: the client secret is sent to it.");
            }
            else if (!TokenHostAllowed(endpoint.Host))
            {
                problems.Add($"authentication.tokenEndpoint host {Bounded(endpoint.Host)} is not on the allow-list of token endpoint hosts (Registry:AllowedTokenEndpointHosts).");
            }
        }

        foreach (var (field, name) in new[] { ("secretName", authentication.SecretName), ("certificateName", authentication.CertificateName) })
        {
            if (name is not null && !ScopedTo(odsCode, name))
            {
                problems.Add($"authentication.{field} '{Bounded(name)}' must be {odsCode}'s own: {odsCode} or {odsCode}-..., letters, digits and hyphens (at most 64).");
            }
        }

        return problems;
    }

    private bool TokenHostAllowed(string host) => options.Value.AllowedTokenEndpointHosts.Any(allowed =>
        allowed.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase) && host.Length > allowed.Length - 1
            : string.Equals(host, allowed, StringComparison.OrdinalIgnoreCase));

    private static bool ScopedTo(string odsCode, string name) =>
        name.Length <= 64
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
        && (string.Equals(name, odsCode, StringComparison.OrdinalIgnoreCase) || name.StartsWith(odsCode + "-", StringComparison.OrdinalIgnoreCase));

    private static string Bounded(string value) => value.Length <= 80 ? value : value[..80] + "…";

    /// <summary>Refuses a registry holding a source this environment must not call.</summary>
    public void Check(RegistrySnapshot registry)
    {
        var active = registry.Organisations.Where(o => o.State != LifecycleState.Withdrawn).ToList();
        var insecure = active.Where(o => Problem(o.FhirBaseUrl.ToString()) is not null).Select(o => o.OdsCode).ToList();
        if (insecure.Count > 0)
        {
            throw new InvalidOperationException(
                $"The registry holds source URLs this {environment.EnvironmentName} gateway must not call (not https): {string.Join(", ", insecure)}. Correct them, or withdraw the organisations.");
        }

        var unauthenticated = active.Where(o => AuthenticationProblem(o.Authentication) is not null).Select(o => o.OdsCode).ToList();
        if (unauthenticated.Count > 0)
        {
            throw new InvalidOperationException(
                $"The registry holds sources this {environment.EnvironmentName} gateway cannot authenticate to (no or incomplete outbound authentication): {string.Join(", ", unauthenticated)}.");
        }
    }
}
