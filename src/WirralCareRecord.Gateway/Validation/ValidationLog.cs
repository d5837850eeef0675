namespace WirralCareRecord.Gateway.Validation;

/// <summary>The validation feature's log messages. Resource types, profile URLs, ODS codes and counts only: never resource content.</summary>
internal static partial class ValidationLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Profiles loaded: {Profiles} Wirral profiles compiled by Firely.Fhir.Validation in {ElapsedMs:0} ms")]
    public static partial void ProfilesLoaded(ILogger logger, int profiles, double elapsedMs);

    [LoggerMessage(EventId = 601, Level = LogLevel.Error, Message = "The profiles could not be loaded")]
    public static partial void ProfilesFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "Profile {Profile} could not be compiled: {Problem}")]
    public static partial void ProfileFailed(ILogger logger, string profile, string problem);

    [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "$validate {ResourceType} against {Profile}: {Errors} errors, {Warnings} warnings in {ElapsedMs:0.###} ms (correlation {CorrelationId})")]
    public static partial void Validated(ILogger logger, string resourceType, string profile, int errors, int warnings, double elapsedMs, string correlationId);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "A sampled answer from {OdsCode} could not be validated ({Problem})")]
    public static partial void SampleFailed(ILogger logger, string odsCode, string problem);
}
