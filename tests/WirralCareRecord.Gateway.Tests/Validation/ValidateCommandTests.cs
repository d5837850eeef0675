using System.Diagnostics;
using Hl7.Fhir.Model;
using WirralCareRecord.Gateway.Hosting;
using WirralCareRecord.Gateway.Tests.Common;
using WirralCareRecord.Gateway.Validation;

namespace WirralCareRecord.Gateway.Tests.Validation;

/// <summary>The onboarding teams' command: <c>dotnet run --project src/WirralCareRecord.Gateway -- validate ...</c>.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("wcr-validate-").FullName;

    [Fact]
    public void Validate_FolderWithAnError_PrintsEachFileAndExits1()
    {
        // Arrange
        var uncoded = ClinicalData.Condition("c1", "p1");
        uncoded.Code = null;
        Write("good-patient.json", FhirSource.NewPatient("p1", "9000000009"));
        Write("bad-condition.json", uncoded);

        // Act
        var (exit, output, _) = Run(_folder);

        // Assert
        Assert.Equal(1, exit);
        Assert.Matches(@"FAIL  .*bad-condition\.json  Condition against WCR-Condition .*: 1 error\(s\)", output);
        Assert.Contains("error       Condition  Missing required member: 'code'", output, StringComparison.Ordinal);
        Assert.Matches(@"ok    .*good-patient\.json  Patient against WCR-Patient .*: 0 error\(s\)", output);
        Assert.Contains("2 file(s): 1 without errors, 1 with errors.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UkCoreExampleAgainstUkCoreProfile_Exits0()
    {
        // Act
        var (exit, output, _) = Run(Definitions.Fixture("ukcore-examples", "UKCore-Patient-RichardSmith-Example.xml"), "--profile", Definitions.UkCore + "UKCore-Patient");

        // Assert
        Assert.Equal(0, exit);
        Assert.Contains("Patient against UKCore-Patient", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--profile", "https://example.org/StructureDefinition/nope")]
    [InlineData("--frobnicate")]
    public void Validate_BadArguments_Exits2(params string[] extra)
    {
        // Act
        var (exit, _, error) = Run([_folder, .. extra]);

        // Assert
        Assert.Equal(2, exit);
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Validate_NoSuchFile_Exits2()
    {
        // Act
        var (exit, _, error) = Run(Path.Combine(_folder, "missing.json"));

        // Assert
        Assert.Equal(2, exit);
        Assert.Contains("no such file or folder", error, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayProgram_ValidateArgument_RunsTheCommandInsteadOfTheGateway()
    {
        // Arrange: the gateway as onboarding staff run it, in its own process.
        var uncoded = ClinicalData.Condition("c1", "p1");
        uncoded.Code = null;
        Write("bad-condition.json", uncoded);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _folder };
        foreach (var argument in new[] { typeof(Program).Assembly.Location, ValidateCommand.Name, _folder })
        {
            start.ArgumentList.Add(argument);
        }

        // Act
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit(60_000);

        // Assert
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("Missing required member: 'code'", output, StringComparison.Ordinal);
    }

    private void Write(string name, Resource resource) => File.WriteAllText(Path.Combine(_folder, name), FhirJson.Serialize(resource));

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = ValidateCommand.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
