using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;

namespace WirralCareRecord.Gateway.Agreements;

/// <summary>
/// Checks that an uploaded agreement is a real PDF: parsed strictly by PdfPig (header, cross-reference table or stream,
/// trailer, page tree) with at least one page, not encrypted. A body that merely starts with <c>%PDF-</c> is not an
/// agreement anyone signed.
/// </summary>
public static class SignedDocument
{
    /// <summary>More pages than any data sharing agreement has; a bound on what an upload may make the gateway parse.</summary>
    public const int MaxPages = 500;

    /// <summary>Why <paramref name="bytes"/> is not a usable signed agreement, or null when it is; and its page count.</summary>
    public static (string? Problem, int Pages) Check(byte[] bytes)
    {
        if (!bytes.AsSpan().StartsWith("%PDF-"u8))
        {
            return ("The body is labelled application/pdf but is not a PDF (it does not start with %PDF-).", 0);
        }

        try
        {
            using var document = PdfDocument.Open(bytes, new ParsingOptions { UseLenientParsing = false, SkipMissingFonts = true });
            if (document.IsEncrypted)
            {
                return ("The PDF is encrypted; upload the signed agreement as an unencrypted PDF so it can be read when audited.", 0);
            }

            var pages = document.NumberOfPages;
            if (pages is < 1 or > MaxPages)
            {
                return ($"The PDF has {pages} pages; a signed agreement has between 1 and {MaxPages}.", pages);
            }

            // Reading each page proves the page tree is whole, not just that the count was written down.
            foreach (Page page in document.GetPages())
            {
                _ = page.Width;
            }

            return (null, pages);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // PdfPig throws several types for broken files; the cause is not echoed (it may quote the file's bytes).
            return ("The body starts like a PDF but is not a readable PDF document (its structure is broken or incomplete).", 0);
        }
    }
}
