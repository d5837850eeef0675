using System.Diagnostics;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;

namespace WirralCareRecord.Gateway.Validation;

/// <summary>
/// <c>dotnet run --project src/WirralCareRecord.Gateway -- validate &lt;file-or-folder&gt;... [--profile url]
/// [--profiles folder]</c>: validates FHIR JSON and XML files with Firely.Fhir.Validation for onboarding teams,
/// printing a line per file and its errors and warnings. Exits 0 when nothing has errors, 1 when something does, 2 when it could not run.
/// </summary>
public static class ValidateCommand
{
    public const string Name = "validate";

    private static readonly FhirJsonDeserializer Json = new(new DeserializerSettings().UsingMode(DeserializationMode.Recoverable));
    private static readonly FhirXmlDeserializer Xml = new(new DeserializerSettings().UsingMode(DeserializationMode.Recoverable));

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var inputs = new List<string>();
        string? profile = null;
        string? profilesFolder = null;
        var showInformation = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--profile" when i + 1 < args.Count:
                    profile = args[++i];
                    break;
                case "--profiles" when i + 1 < args.Count:
                    profilesFolder = args[++i];
                    break;
                case "--information":
                    showInformation = true;
                    break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    return Usage(error, $"Unknown option {option}.");
                default:
                    inputs.Add(args[i]);
                    break;
            }
        }

        if (inputs.Count == 0)
        {
            return Usage(error, "Name at least one file or folder to validate.");
        }

        var profiles = profilesFolder ?? ValidationOptions.DefaultFolder("profiles");
        if (!Directory.Exists(profiles))
        {
            error.WriteLine($"The profiles folder {profiles} does not exist.");
            return 2;
        }

        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                files.AddRange(Directory.EnumerateFiles(input, "*.*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(input))
            {
                files.Add(input);
            }
            else
            {
                error.WriteLine($"{input}: no such file or folder.");
                return 2;
            }
        }

        var engine = FirelyValidation.For(profiles, ValidationOptions.Conformance);
        if (profile is not null && !engine.HasProfile(profile))
        {
            error.WriteLine($"The profile '{profile}' is not known. Wirral profiles: {string.Join(", ", engine.WirralProfiles.Values.Order(StringComparer.Ordinal))}");
            return 2;
        }

        var failed = 0;
        foreach (var file in files)
        {
            var outcome = ValidateFile(engine, file, profile, out var summary);
            var errors = outcome.Errors + outcome.Fatals;
            failed += errors > 0 ? 1 : 0;
            output.WriteLine($"{(errors > 0 ? "FAIL" : "ok  ")}  {file}  {summary}: {errors} error(s), {outcome.Warnings} warning(s)");
            foreach (var issue in outcome.Issue.Where(i => showInformation || i.Severity is not OperationOutcome.IssueSeverity.Information))
            {
                output.WriteLine($"        {issue.Severity?.ToString().ToLowerInvariant(),-11} {string.Join(", ", issue.Expression)}  {issue.Diagnostics}");
            }
        }

        output.WriteLine($"{files.Count} file(s): {files.Count - failed} without errors, {failed} with errors.");
        return failed > 0 ? 1 : 0;
    }

    private static OperationOutcome ValidateFile(FirelyValidation engine, string file, string? profile, out string summary)
    {
        Resource? resource;
        IEnumerable<CodedException> problems;
        try
        {
            var text = File.ReadAllText(file);
            _ = file.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)
                ? Xml.TryDeserializeResource(text, out resource, out problems)
                : Json.TryDeserializeResource(text, out resource, out problems);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or System.Xml.XmlException or System.Text.Json.JsonException or ArgumentException or InvalidCastException)
        {
            summary = "not readable";
            return new OperationOutcome { Issue = [Hosting.Outcomes.Issue(OperationOutcome.IssueSeverity.Fatal, OperationOutcome.IssueType.Structure, ex.Message)] };
        }

        if (resource is null)
        {
            summary = "not a FHIR resource";
            return new OperationOutcome { Issue = [.. problems.Select(p => Hosting.Outcomes.Issue(OperationOutcome.IssueSeverity.Fatal, OperationOutcome.IssueType.Structure, p.Message))] };
        }

        var started = Stopwatch.GetTimestamp();
        var outcome = engine.Validate(resource, profile);
        var used = profile ?? resource.Meta?.Profile.FirstOrDefault() ?? engine.WirralProfileFor(resource.TypeName) ?? FirelyValidation.CoreBase + resource.TypeName;
        summary = $"{resource.TypeName} against {used[(used.LastIndexOf('/') + 1)..]} ({Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.#} ms)";
        outcome.Issue.InsertRange(0, problems.Select(p => Hosting.Outcomes.Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure, p.Message)));
        return outcome;
    }

    private static int Usage(TextWriter error, string problem)
    {
        error.WriteLine(problem);
        error.WriteLine("Usage: validate <file-or-folder>... [--profile <canonical url>] [--profiles <profiles folder>] [--information]");
        return 2;
    }
}
