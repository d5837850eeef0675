namespace WirralCareRecord.Gateway.Launch;

/// <summary>Why a context launch could not open a record: each has its own page, in words a clinician can act on.</summary>
public enum LaunchProblem
{
    MissingParameters,
    UnknownIssuer,
    RecordSystemUnavailable,
    NotSmartLaunch,
    Declined,
    Expired,
    TokenRefused,
    IdentityNotValid,
    NotAClinician,
    NoPatient,
    PatientUnreadable,
    MissingNhsNumber,
}

/// <summary>What the problem page says about each <see cref="LaunchProblem"/>.</summary>
public static class LaunchProblems
{
    public sealed record Text(string Code, string Title, string Body, int Status);

    private static readonly Dictionary<LaunchProblem, Text> Texts = new()
    {
        [LaunchProblem.MissingParameters] = new("missing-parameters", "The record system did not say who or where the launch came from",
            "A context launch needs the record system's address (iss) and a launch code (launch). Open the Wirral Care Record again from the patient's record in your system.", 400),
        [LaunchProblem.UnknownIssuer] = new("unknown-issuer", "Your record system is not registered with the Wirral Care Record",
            "The system that opened this page is not one the Wirral Care Record knows, so it cannot tell which organisation you work for. Ask your practice or trust's onboarding contact to register the system's address; until then, find the record on the Wirral Care Record's own pages.", 403),
        [LaunchProblem.RecordSystemUnavailable] = new("record-system-unavailable", "Your record system could not be reached",
            "The Wirral Care Record could not read your record system's SMART configuration. Try again in a minute; if it keeps happening, tell your IT service desk.", 502),
        [LaunchProblem.NotSmartLaunch] = new("not-smart-launch", "Your record system does not offer a secure context launch",
            "Its SMART configuration does not offer the EHR launch with PKCE (S256) that the Wirral Care Record needs. Tell your IT service desk.", 502),
        [LaunchProblem.Declined] = new("declined", "Your record system did not allow the launch",
            "Signing in at your record system did not complete, so no record has been opened.", 403),
        [LaunchProblem.Expired] = new("expired", "This launch has expired",
            "The launch was not finished in time, or was already used. Open the Wirral Care Record again from the patient's record in your system.", 400),
        [LaunchProblem.TokenRefused] = new("token-refused", "Your record system did not confirm the launch",
            "The record system refused to exchange the launch for an access token. Open the Wirral Care Record again; if it keeps happening, tell your IT service desk.", 502),
        [LaunchProblem.IdentityNotValid] = new("identity-not-valid", "Your identity could not be confirmed",
            "The record system's statement of who you are (its id_token) did not pass the checks: signature, issuer, audience, expiry and nonce. No record has been opened.", 401),
        [LaunchProblem.NotAClinician] = new("not-a-clinician", "This launch is not from a member of staff",
            "The Wirral Care Record opens records for staff only; the record system named a user who is not a practitioner.", 403),
        [LaunchProblem.NoPatient] = new("no-patient", "No patient was selected in your record system",
            "The launch did not name a patient. Open the Wirral Care Record from within a patient's record.", 400),
        [LaunchProblem.PatientUnreadable] = new("patient-unreadable", "The patient could not be read from your record system",
            "The Wirral Care Record could not read the patient your system named. Try again; if it keeps happening, tell your IT service desk.", 502),
        [LaunchProblem.MissingNhsNumber] = new("missing-nhs-number", "This patient has no NHS number in your record system",
            "The Wirral Care Record finds records by NHS number only, and the patient record your system holds has no valid one. Trace and record the NHS number (for example through the Personal Demographics Service), then open the Wirral Care Record again.", 422),
    };

    public static Text Of(LaunchProblem problem) => Texts[problem];

    public static Text? Of(string? code) => Texts.Values.FirstOrDefault(t => t.Code == code);
}
