namespace WirralCareRecord.Gateway.Audit;

/// <summary>Registers the audit trail and its store.</summary>
public static class AuditFeature
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>()
            .BindConfiguration(AuditOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IAuditStore, LocalFolderAuditStore>();
        builder.Services.AddSingleton<AuditTrail>();
        return builder;
    }
}
