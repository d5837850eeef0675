using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WirralCareRecord.Gateway.Tests.Common;

/// <summary>Self-signed certificates with private keys, for https WireMock servers and mutual TLS clients.</summary>
public static class TestCertificates
{
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    public static X509Certificate2 Create(string subject, string usage)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        // Re-imported from PKCS#12 so Kestrel (inside WireMock) can use the private key on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
