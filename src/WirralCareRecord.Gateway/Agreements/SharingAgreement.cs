namespace WirralCareRecord.Gateway.Agreements;

/// <summary>The signed PDF of an agreement, stored once as a blob and never overwritten.</summary>
/// <param name="BlobName">Where the document is kept in the agreements container.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the bytes, so anyone can check the copy they hold is the one signed.</param>
public sealed record AgreementDocument(string BlobName, string Sha256, long Size, string ContentType, DateTimeOffset UploadedAt, string UploadedBy);

/// <summary>
/// A signed data sharing agreement. Providers make their data available; consumers may view it.
/// An organisation usually signs as both. A new version replaces the old one in the registry; its document is a new blob.
/// </summary>
/// <param name="DataCategories">FHIR resource types the agreement permits; empty means every category the gateway federates.</param>
public sealed record SharingAgreement(
    string Id,
    string Version,
    IReadOnlyList<string> Providers,
    IReadOnlyList<string> Consumers,
    string SignedBy,
    DateOnly SignedOn,
    DateOnly EffectiveFrom,
    DateOnly Expires,
    bool Revoked,
    IReadOnlyList<string> DataCategories)
{
    /// <summary>The purpose sharing is agreed for; the Wirral Care Record shares for direct care only.</summary>
    public const string DirectCare = "direct-care";

    public IReadOnlyList<string> Purposes { get; init; } = [DirectCare];

    /// <summary>When the parties agreed to review the agreement; a reminder, not a limit.</summary>
    public DateOnly? ReviewOn { get; init; }

    public AgreementDocument? Document { get; init; }

    /// <summary>
    /// In force on <paramref name="day"/>: its signed document is uploaded (with its SHA-256), it is not revoked, and the
    /// day is within its effective dates (inclusive). An agreement recorded without its signed document shares nothing.
    /// </summary>
    public bool IsActiveOn(DateOnly day) => IsSigned && !Revoked && day >= EffectiveFrom && day <= Expires;

    /// <summary>The signed document is held: a stored blob with a SHA-256 (64 hex digits).</summary>
    public bool IsSigned => Document is { Sha256.Length: 64, Size: > 0 } document && document.Sha256.All(char.IsAsciiHexDigit);
}
