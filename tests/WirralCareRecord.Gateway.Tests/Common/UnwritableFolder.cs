namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>A path where a folder is expected but a file stands, so nothing can be written under it: storage "down".</summary>
public sealed class UnwritableFolder : IDisposable
{
    public UnwritableFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wcr-unwritable-" + Guid.NewGuid());
        File.WriteAllText(Path, "a file where a folder should be");
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
