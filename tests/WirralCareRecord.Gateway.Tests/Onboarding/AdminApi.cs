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

    public static Task<HttpResponseMessage> TransitionAsync(this HttpClient client, string odsCode, LifecycleState to, string reason = "Onboarding checklist complete") =>
        client.PostJsonAsync($"/admin/organisations/{odsCode}/transitions", new TransitionRequest(to, reason));

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, string odsCode, string agreementId, byte[] body, string contentType = "application/pdf")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return client.PutAsync($"/admin/organisations/{odsCode}/agreements/{agreementId}/document", content);
    }

    /// <summary>A small but real PDF: what an admin would scan and upload.</summary>
    public static byte[] Pdf(string text = "Signed data sharing agreement") =>
        System.Text.Encoding.ASCII.GetBytes($"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {text}\ntrailer << /Root 1 0 R >>\n%%EOF\n");
}
