using System.Text.RegularExpressions;

namespace WirralCareRecord.Gateway.Onboarding;

/// <summary>
/// Organisation Data Service codes: 3 to 6 characters (trusts <c>RBL</c>, practices <c>N85001</c>,
/// sites and local authorities longer), letters and digits only.
/// </summary>
public static partial class OdsCode
{
    /// <summary>The identifier system NHS England uses for ODS codes.</summary>
    public const string System = "https://fhir.nhs.uk/Id/ods-organization-code";

    public static bool IsValid(string? value) => value is not null && Pattern().IsMatch(value);

    [GeneratedRegex("^[A-Za-z0-9]{3,6}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
