using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>How the gateway reads who the caller is. Entra ID itself is configured in the <c>AzureAd</c> section.</summary>
public sealed class GatewayAuthenticationOptions
{
    public const string SectionName = "Authentication";

    /// <summary>The claim carrying the caller's organisation ODS code (an Entra optional or directory extension claim).</summary>
    [Required]
    public string OdsClaimType { get; set; } = "ods";

    /// <summary>The claim carrying purpose of use; absent means direct care.</summary>
    [Required]
    public string PurposeClaimType { get; set; } = "purpose";

    /// <summary>How NHS CIS2 role claims map to gateway roles, for tokens of the CIS2 shape.</summary>
    [Required]
    [ValidateObjectMembers]
    public Cis2Options Cis2 { get; set; } = new();

    /// <summary>The audience of tokens from the development issuer (Development only).</summary>
    [Required]
    public string DevelopmentAudience { get; set; } = "api://wirral-care-record";
}
