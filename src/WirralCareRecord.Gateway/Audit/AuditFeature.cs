using WirralCareRecord.Gateway.Hosting;

namespace WirralCareRecord.Gateway.Audit;

/// <summary>
/// Registers the audit trail, the log it writes (on the Audit blob container, see <c>Storage</c>), daily roll-ups and
/// what auditors can ask.
/// </summary>
public static class AuditFeature
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuditOptions>(AuditOptions.SectionName);
        builder.Services.AddSingleton<AuditLogReader>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<IAuditStore>(services => services.GetRequiredService<AuditLog>());
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton<AuditPseudonyms>();
        builder.Services.AddSingleton<AuditRollups>();
        builder.Services.AddHostedService<RollupMaintenance>();
        builder.Services.AddSingleton<AuditChainVerifier>();
        builder.Services.AddSingleton<AuditSearch>();
        builder.Services.AddSingleton<AuditDisclosures>();
        builder.Services.AddSingleton<StoryOnceReports>();
        return builder;
    }
}
