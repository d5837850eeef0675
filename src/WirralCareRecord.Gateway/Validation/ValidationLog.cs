namespace WirralCareRecord.Gateway.Validation;

/// <summary>The validation feature's log messages. Resource types, profile URLs and counts only: never resource content.</summary>
internal static partial class ValidationLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Profiles loaded: {Profiles} Wirral profiles compiled over {Definitions} definitions in {ElapsedMs:0} ms")]
    public static partial void ProfilesLoaded(ILogger logger, int profiles, int definitions, double elapsedMs);

    [LoggerMessage(EventId = 601, Level = LogLevel.Error, Message = "The profiles could not be loaded")]
    public static partial void ProfilesFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "Profile {Profile} could not be compiled: {Problem}")]
    public static partial void ProfileFailed(ILogger logger, string profile, string problem);

    [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "$validate {ResourceType} against {Profile}: {Errors} errors, {Warnings} warnings in {ElapsedMs:0.###} ms (correlation {CorrelationId})")]
    public static partial void Validated(ILogger logger, string resourceType, string profile, int errors, int warnings, double elapsedMs, string correlationId);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Source {OdsCode} sent {Count} item(s) that do not conform to the Wirral profiles (correlation {CorrelationId})")]
    public static partial void SourceNonconformant(ILogger logger, string odsCode, int count, string correlationId);
}
