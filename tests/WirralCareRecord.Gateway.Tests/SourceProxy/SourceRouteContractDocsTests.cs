using System.Text.RegularExpressions;
using WirralCareRecord.Gateway.SourceProxy;

namespace WirralCareRecord.Gateway.Tests.SourceProxy;

/// <summary>The README's source route table and the CapabilityStatement say what the contract in code allows.</summary>
public sealed partial class SourceRouteContractDocsTests
{
    [GeneratedRegex("`([A-Za-z_\\-]+)`")]
    private static partial Regex Code();

    private static string Repository()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "WirralCareRecord.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("WirralCareRecord.sln was not found above the test folder.");
    }

    [Fact]
    public void ReadmeTable_ListsExactlyTheSearchParametersTheCodeAllows()
    {
        var readme = File.ReadAllLines(Path.Combine(Repository(), "README.md"));
        var row = readme.SkipWhile(l => !l.Contains("source-route-contract", StringComparison.Ordinal)).Single(l => l.StartsWith("| `GET {Type}?patient={id}`", StringComparison.Ordinal));
        var notes = row.Split('|')[3];

        var documented = Code().Matches(notes).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(SourceRouteContract.SearchParameters.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CapabilityStatement_ListsExactlyTheSearchParametersTheCodeAllows()
    {
        var capability = File.ReadAllText(Path.Combine(Repository(), "conformance", "CapabilityStatement-wcr-gateway.json"));
        var sentence = Regex.Match(capability, "`GET \\{type\\}\\?patient=\\{id\\}` with only (?<list>[^;]+);").Groups["list"].Value;

        var documented = Code().Matches(sentence).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(SourceRouteContract.SearchParameters.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }
}
