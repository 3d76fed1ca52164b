using System.Text;

namespace Airlock.Gateway.Audit.Evidence;

/// <summary>
/// events.csv: the events as a table for people (RFC 4180 quoting). It is for reading; the
/// chain is verified from events.jsonl. A cell that a spreadsheet would run as a formula
/// (starting with =, +, -, @, tab or CR) is prefixed with an apostrophe, because paths and
/// subjects come from callers.
/// </summary>
internal static class AuditCsv
{
    public static readonly byte[] Header = Encoding.UTF8.GetBytes(
        "seq,at,kind,actor,groups,auth_method,connection,method,path,rule,policy_version,review_id,session_id,outcome,detail,prev_hash,hash\r\n");

    public static byte[] Row(AuditEvent e)
    {
        // As a JSON object: "k=v; k=v" would let a comment pass for another field.
        var detail = e.Detail.IsEmpty ? "" : System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(e.Detail.Aggregate(new CanonicalJson.Obj(), (o, d) => o.Add(d.Key, d.Value))));
        string?[] cells =
        [
            e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), AuditChain.FormatTime(e.At), e.Kind,
            e.Actor?.Subject, e.Actor is { } a ? string.Join(' ', a.Groups) : null, e.Actor?.AuthMethod,
            e.Target?.Connection, e.Target?.Method, e.Target?.Path, e.Rule, e.PolicyVersion,
            e.ReviewId?.ToString(), e.SessionId?.ToString(), e.Outcome, detail, e.PrevHash, e.Hash,
        ];
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            line.Append(Cell(cells[i] ?? ""));
        }

        return Encoding.UTF8.GetBytes(line.Append("\r\n").ToString());
    }

    private static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
