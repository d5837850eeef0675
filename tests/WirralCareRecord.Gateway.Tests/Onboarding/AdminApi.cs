using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Tests.Onboarding;

/// <summary>The onboarding admin API as a client script would call it, failing with the server's ProblemDetails when a call does not answer as expected.</summary>
public static class AdminApi
{
    public static JsonSerializerOptions Json => RegistryDocument.JsonOptions;

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) => client.PostAsJsonAsync(url, body, Json);

    public static async Task<T> ExpectAsync<T>(this Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, Json)!;
    }

    /// <summary>Expects a refusal and returns its ProblemDetails detail.</summary>
    public static async Task<string> RefusedAsync(this Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
    }

    /// <summary>A lifecycle move as a careful script makes it: read the organisation's ETag, then send it as If-Match.</summary>
    public static async Task<HttpResponseMessage> TransitionAsync(this HttpClient client, string odsCode, LifecycleState to, string reason = "Onboarding checklist complete") =>
        await client.SendWithETagAsync(HttpMethod.Post, odsCode, $"/admin/organisations/{odsCode}/transitions", new TransitionRequest(to, reason), await client.ETagAsync(odsCode));

    /// <summary>The organisation's current ETag, from a GET.</summary>
    public static async Task<string> ETagAsync(this HttpClient client, string odsCode)
    {
        using var read = await client.GetAsync($"/admin/organisations/{odsCode}");
        return read.Headers.ETag?.Tag ?? "\"0\"";
    }

    /// <summary>Sends <paramref name="body"/> as JSON with If-Match: <paramref name="etag"/> (null: no If-Match).</summary>
    public static Task<HttpResponseMessage> SendWithETagAsync(this HttpClient client, HttpMethod method, string odsCode, string url, object body, string? etag)
    {
        var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body, options: Json) };
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }

        _ = odsCode;
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, string odsCode, string agreementId, byte[] body, string contentType = "application/pdf")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return client.PutAsync($"/admin/organisations/{odsCode}/agreements/{agreementId}/document", content);
    }

    /// <summary>A small but real PDF (written by PdfPig: catalogue, page tree, cross-reference table), one page per line of text.</summary>
    public static byte[] Pdf(string text = "Signed data sharing agreement", int pages = 1)
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        for (var i = 0; i < pages; i++)
        {
            builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddText($"{text} ({i + 1})", 12, new UglyToad.PdfPig.Core.PdfPoint(50, 750), font);
        }

        return builder.Build();
    }

    /// <summary>Starts like a PDF and is not one: what the old check let through.</summary>
    public static byte[] FakePdf() =>
        System.Text.Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% not really\ntrailer << /Root 1 0 R >>\n%%EOF\n");
}
