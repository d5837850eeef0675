using System.ComponentModel.DataAnnotations;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>Where the audit log is written.</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Audit";

    /// <summary>The local audit folder (absolute, or relative to the content root).</summary>
    [Required(ErrorMessage = "Audit:Folder must name the folder the audit log is written to.")]
    public string Folder { get; set; } = "data/audit";

    /// <summary>This gateway instance's name in blob names, so instances never write to the same file.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Audit:InstanceId may use letters, digits, '.', '_' and '-' only.")]
    public string InstanceId { get; set; } = SafeMachineName();

    private static string SafeMachineName() =>
        new string([.. Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')]) is { Length: > 0 } name
            ? name[..Math.Min(name.Length, 64)]
            : "gateway";
}
