namespace WirralCareRecord.Gateway.SourceAnswers;

/// <summary>
/// Version 4 UUIDs for what the gateway writes itself (the record's and a searchset's Bundle id, Provenance and
/// OperationOutcome entries). They need to be unique, not unguessable: nothing is fetched or trusted by them. A profile
/// of the federated read under load put <see cref="Guid.NewGuid"/> (the operating system's secure random source, asked
/// once per id) at about 2 % of the gateway's CPU; <see cref="Random.Shared"/> is seeded from it once per process and
/// gives 122 random bits per id without a system call.
/// </summary>
internal static class FreshId
{
    public static Guid New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        // RFC 9562: version 4 in the high nibble of octet 6, variant 10 in the top bits of octet 8 (Guid's layout keeps
        // its first three fields little-endian, so octet 6 is byte 7 here).
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
