using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>Registers the audit trail and its store.</summary>
public static class AuditFeature
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuditOptions>(AuditOptions.SectionName);
        builder.Services.AddSingleton<IAuditStore, LocalFolderAuditStore>();
        builder.Services.AddSingleton<AuditTrail>();
        return builder;
    }
}
