using System.Text;

namespace Airlock.Bench;

/// <summary>
/// The JSON replies of the load comparison (bench/load.sh's upstream), built the same way
/// wherever they are needed, so the masking benchmark of the 1 MB reply masks exactly what the
/// load run sends. Compiled into each bench project that uses it.
/// </summary>
internal static class CustomerRecords
{
    /// <summary>
    /// A JSON array of customer records of about <paramref name="bytes"/> bytes, where about one
    /// string value in twenty is personal data (an email, a phone number or a card number), the
    /// same share the masking benchmarks use.
    /// </summary>
    public static byte[] Json(int bytes)
    {
        var json = new StringBuilder("{\"customers\":[");
        for (var i = 0; json.Length < bytes - 200; i++)
        {
            if (i > 0)
            {
                json.Append(',');
            }

            var pii = (i % 4) switch
            {
                0 => $"customer{i}@example.com",
                1 => "+44 20 7946 0958",
                2 => "4111 1111 1111 1111",
                _ => "none on file",
            };
            json.Append($"{{\"id\":\"cus_{i:D6}\",\"name\":\"Customer {i}\",\"plan\":\"standard\",\"status\":\"active\",\"region\":\"eu-west\",\"note\":\"renews monthly\",\"created\":\"2026-01-0{i % 9 + 1}\",\"contact\":\"{pii}\",\"balance\":{i * 7 % 1000}}}");
        }

        json.Append("]}");
        return Encoding.UTF8.GetBytes(json.ToString());
    }
}
