using System.Text.Json;
using Airlock.Gateway.Masking;
using static Airlock.Gateway.Tests.Masking.MaskingTestPlans;

namespace Airlock.Gateway.Tests.Masking;

public class JsonMaskerTests
{
    private const string Customers = """{"customers":[{"name":"Ada","email":"ada@example.com","card":"4111 1111 1111 1111"},{"name":"Bob","email":"bob@example.org","note":"call +1 202 555 0143"}],"support":"help@example.com"}""";

    [Fact]
    public void A_field_path_masks_only_the_fields_it_names()
    {
        var plan = Plan([Field("$.customers[*].email", label: "EMAIL")]);

        var output = Json(plan, Customers);

        Assert.Equal("""{"customers":[{"name":"Ada","email":"[REDACTED:EMAIL]","card":"4111 1111 1111 1111"},{"name":"Bob","email":"[REDACTED:EMAIL]","note":"call +1 202 555 0143"}],"support":"help@example.com"}""", output);
    }

    [Fact]
    public void Detectors_mask_inside_every_string_and_count_by_label()
    {
        var plan = Plan(null, Detect("email"), Detect("payment-card"), Detect("phone"));
        using var masker = new JsonMasker(plan, 1 << 20);

        var output = Run(masker, Customers);

        Assert.Equal("""{"customers":[{"name":"Ada","email":"[REDACTED:EMAIL]","card":"[REDACTED:CARD]"},{"name":"Bob","email":"[REDACTED:EMAIL]","note":"call [REDACTED:PHONE]"}],"support":"[REDACTED:EMAIL]"}""", output);
        Assert.Equal(5, masker.Counts.Total);
        Assert.Equal(3, masker.Counts.ByLabel["EMAIL"]);
        Assert.Equal(1, masker.Counts.ByLabel["CARD"]);
    }

    [Theory]
    // A dropped property takes the comma before it; the first one of an object, the comma after.
    [InlineData("""{"a":1,"ssn":"x","b":2}""", """{"a":1,"b":2}""")]
    [InlineData("""{"ssn":"x","a":1}""", """{"a":1}""")]
    [InlineData("""{"ssn":"x","ssn":{"deep":[1,2]},"a":1,"ssn":3}""", """{"a":1}""")]
    [InlineData("""{"ssn":"x"}""", """{}""")]
    [InlineData("""[{"ssn":[1,{"x":2}]},{"a":{"ssn":null,"b":true}}]""", """[{},{"a":{"b":true}}]""")]
    // Whitespace and escapes outside what is masked stay as they came.
    [InlineData("{ \"a\" : \"caf\\u00e9\" ,\n  \"ssn\" : \"x\" ,\r\n \"b\":[ 1 , 2 ] }", "{ \"a\" : \"caf\\u00e9\" ,\r\n \"b\":[ 1 , 2 ] }")]
    [InlineData("{\n  \"ssn\": \"x\",\n  \"b\": 2\n}\n", "{\"b\": 2\n}\n")]
    public void The_body_is_written_as_it_came_with_dropped_properties_spliced_out(string body, string expected)
    {
        var plan = Plan([Field("$..ssn", MaskAction.Drop)]);

        // Every piece size, so every byte is at some point the last of a piece.
        for (var pieceSize = 1; pieceSize <= body.Length; pieceSize++)
        {
            Assert.Equal(expected, Json(plan, body, pieceSize));
        }
    }

    [Fact]
    public void A_masked_name_and_value_are_spliced_in_where_they_stood()
    {
        var plan = Plan([Field("$.card", label: "CARD")], Detect("email"));
        const string Body = "{ \"ada@example.com\" : [ \"bob@example.org\" ] ,\n\"card\": { \"n\": 4111 } , \"z\":0 }";

        for (var pieceSize = 1; pieceSize <= Body.Length; pieceSize++)
        {
            Assert.Equal("{ \"[REDACTED:EMAIL]\" : [ \"[REDACTED:EMAIL]\" ] ,\n\"card\": \"[REDACTED:CARD]\" , \"z\":0 }", Json(plan, Body, pieceSize));
        }
    }

    [Fact]
    public void Space_held_back_before_a_property_is_bounded_like_a_value()
    {
        // Found in review: the comma and name before a value are held until the value is read,
        // and the space the reader takes with them was held too, without bound.
        using var masker = new JsonMasker(Plan(null, Detect("email")), maxTokenBytes: 1024);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        masker.Write("""{"a":1,"b":"""u8, output);
        var space = new byte[4096];
        Array.Fill(space, (byte)' ');
        for (var n = 0; n < 256; n++)
        {
            masker.Write(space, output);
        }

        // Written as it comes (from the bound on, as text, which holds at most 64K characters of
        // a line), not held until the value arrives.
        Assert.True(output.WrittenCount > (256 * 4096) - (128 * 1024), $"only {output.WrittenCount} bytes written of 1 MiB");
        masker.Write("\"ada@example.com\"}"u8, output);
        masker.Complete(output);
        var text = System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.StartsWith("""{"a":1,"b":""", text, StringComparison.Ordinal);
        Assert.EndsWith("\"[REDACTED:EMAIL]\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_left_out_for_its_name_is_not_sent_as_text_when_the_body_breaks_inside_it()
    {
        // Found in review: the rest of the value went out as text, with only what a detector
        // knows masked; it is withheld instead.
        var plan = Plan(null, Detect("email", MaskAction.Drop));
        var body = "{\"x\":1,\"alice@example.com\":{\"k\":\"" + new string('z', 60) + "\",\"s\":\"secret\"}}";

        var failure = Assert.Throws<MaskingFailedException>(() => Json(plan, body, pieceSize: 7, maxToken: 40));

        Assert.Contains("left out", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_number_longer_than_64_characters_is_screened_whole()
    {
        // Found in review: only its first 64 characters were read.
        var number = "0." + new string('0', 60) + "1e4111111111111111";

        var output = Json(Plan(null, Detect("payment-card")), $$"""{"n":{{number}}}""");

        Assert.Equal($$"""{"n":"0.{{new string('0', 60)}}1e[REDACTED:CARD]"}""", output);
    }

    [Fact]
    public void A_number_shorter_than_a_card_is_skipped_because_no_built_in_detector_can_match_one()
    {
        // The masker asks the built-in detectors about a JSON number only from a card's length:
        // every other built-in needs a '+' after a non-word character, letters, or separators a
        // number cannot hold. Every short number form, with every detector, finds nothing.
        var random = new Random(2412);
        const string Digits = "0123456789";
        for (var n = 0; n < 20_000; n++)
        {
            var length = random.Next(1, Airlock.Gateway.Detection.PaymentCardDetector.MinDigits);
            var number = new char[length];
            for (var i = 0; i < length; i++)
            {
                number[i] = Digits[random.Next(Digits.Length)];
            }

            // A sign, a fraction and an exponent, where the grammar allows them.
            var text = new string(number);
            if (length > 3 && random.Next(3) == 0)
            {
                var at = random.Next(1, length - 1);
                text = text[..at] + (random.Next(2) == 0 ? "." : random.Next(2) == 0 ? "e+" : "E-") + text[at..];
            }

            text = (random.Next(2) == 0 ? "-" : "") + text;
            text = text[..Math.Min(text.Length, Airlock.Gateway.Detection.PaymentCardDetector.MinDigits - 1)];
            Assert.All(Airlock.Gateway.Detection.Detectors.All, detector => Assert.False(Airlock.Gateway.Detection.Detectors.Any(detector, text), $"{detector.Name} finds something in {text}"));
        }
    }

    [Fact]
    public void A_long_number_is_still_screened_and_a_card_in_it_masked()
    {
        var plan = Plan(null, Detect("payment-card"));

        var output = Json(plan, """{"n":4111111111111111,"m":123456789012}""");

        Assert.Equal("""{"n":"[REDACTED:CARD]","m":123456789012}""", output);
    }

    [Fact]
    public void A_card_one_space_from_its_security_code_or_from_another_card_is_masked()
    {
        // Read as one 19- or 32-digit number, neither card was a card: both went out whole.
        var plan = Plan(null, Detect("payment-card"));

        var output = Json(plan, """{"card":"4111111111111111 123","cards":"4111111111111111 5500000000000004","ref":"1234 5678 9012 3456 7890"}""");

        Assert.Equal("""{"card":"[REDACTED:CARD] 123","cards":"[REDACTED:CARD] [REDACTED:CARD]","ref":"1234 5678 9012 3456 7890"}""", output);
    }

    [Fact]
    public void A_lone_surrogate_escape_is_valid_json_and_the_rest_of_its_string_is_still_masked()
    {
        // Found by JsonMaskerProperties: .NET will not unescape "\uDBFF" without its low half,
        // and the masker threw an error that was not a masking failure.
        var plan = Plan(null, Detect("email"));

        var output = Json(plan, """{"a":"\uDBFFz ada@example.com","x\uDC00 bob@example.org":"\ud800","b":"\uD83D\uDD11 ok"}""", pieceSize: 3);

        // A masked string holds U+FFFD for the lone half (written raw); an unmasked one is copied as it came.
        Assert.Equal("""{"a":"~z [REDACTED:EMAIL]","x~ [REDACTED:EMAIL]":"\ud800","b":"\uD83D\uDD11 ok"}""".Replace('~', '\uFFFD'), output);
        using var _ = JsonDocument.Parse(output);
    }

    [Fact]
    public void Descendant_paths_drop_the_field_at_any_depth()
    {
        var plan = Plan([Field("$..ssn", MaskAction.Drop)]);

        var output = Json(plan, """{"ssn":"1","a":{"b":[{"ssn":{"x":1},"keep":true}],"ssn":null},"z":2}""");

        Assert.Equal("""{"a":{"b":[{"keep":true}]},"z":2}""", output);
    }

    [Fact]
    public void Whole_objects_and_non_strings_at_a_path_become_one_redaction()
    {
        var plan = Plan([Field("$.card", label: "CARD"), Field("$.pin", label: "PIN"), Field("$.ok", label: "OK")]);

        var output = Json(plan, """{"card":{"number":"4111111111111111","cvv":"123"},"pin":1234,"ok":true,"rest":[1,2]}""");

        Assert.Equal("""{"card":"[REDACTED:CARD]","pin":"[REDACTED:PIN]","ok":"[REDACTED:OK]","rest":[1,2]}""", output);
    }

    [Fact]
    public void Partial_keeps_the_last_four_and_an_emails_domain()
    {
        var plan = Plan(null, Detect("payment-card", MaskAction.Partial), Detect("email", MaskAction.Partial));

        var output = Json(plan, """{"card":"4111-1111-1111-1234","n":4111111111111111,"email":"ada@example.com"}""".Replace("1234", "1111", StringComparison.Ordinal));

        Assert.Equal("""{"card":"****1111","n":"****1111","email":"a***@example.com"}""", output);
    }

    [Fact]
    public void Keyed_hashes_are_stable_per_value_and_differ_between_values()
    {
        var plan = Plan([Field("$[*].id", MaskAction.Hash, "ID")]);

        var output = JsonDocument.Parse(Json(plan, """[{"id":"cus_1"},{"id":"cus_2"},{"id":"cus_1"}]""")).RootElement;

        var ids = output.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray();
        Assert.Matches(@"^\[ID:[0-9a-f]{16}\]$", ids[0]);
        Assert.Equal(ids[0], ids[2]);
        Assert.NotEqual(ids[0], ids[1]);
        var otherKey = new MaskingPlan(plan.Fields, [], "another-key"u8.ToArray());
        Assert.NotEqual(ids[0], JsonDocument.Parse(Json(otherKey, """[{"id":"cus_1"}]""")).RootElement[0].GetProperty("id").GetString());
    }

    [Fact]
    public void Values_nothing_matched_keep_their_exact_bytes()
    {
        const string body = """{"name":"caf\u00e9 \"q\"","n":1.50e3,"neg":-0,"t":true,"f":false,"z":null,"u":"日本","e":[],"o":{}}""";

        Assert.Equal(body, Json(Plan([Field("$.missing")], Detect("email")), body));
    }

    [Fact]
    public void Property_names_holding_a_value_are_masked_too()
    {
        var output = Json(Plan(null, Detect("email")), """{"ada@example.com":{"role":"admin"}}""");

        Assert.Equal("""{"[REDACTED:EMAIL]":{"role":"admin"}}""", output);
    }

    [Fact]
    public void A_detector_drop_removes_the_property_and_nulls_an_array_element()
    {
        var output = Json(Plan(null, Detect("us-ssn", MaskAction.Drop)), """{"ssn":"123-45-6789","list":["a","123-45-6789"],"ok":1}""");

        Assert.Equal("""{"list":["a",null],"ok":1}""", output);
    }

    [Fact]
    public void Every_piece_size_gives_the_same_output_as_the_whole_body()
    {
        var plan = Plan([Field("$.customers[*].name", MaskAction.Partial, "NAME"), Field("$..note", MaskAction.Drop)],
            Detect("email"), Detect("payment-card", MaskAction.Partial));
        var whole = Json(plan, Customers);

        for (var size = 1; size <= 9; size++)
        {
            Assert.Equal(whole, Json(plan, Customers, size));
        }

        Assert.DoesNotContain("@example", whole, StringComparison.Ordinal);
        Assert.DoesNotContain("202 555", whole, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_lines_are_masked_line_by_line()
    {
        var output = Json(Plan(null, Detect("email")), "{\"e\":\"a@example.com\"}\n{\"e\":\"b@example.com\"}\n\"c@example.com\"\n", pieceSize: 3, lines: true);

        Assert.Equal("{\"e\":\"[REDACTED:EMAIL]\"}\n{\"e\":\"[REDACTED:EMAIL]\"}\n\"[REDACTED:EMAIL]\"\n", output);
    }

    [Fact]
    public void A_body_that_is_not_json_is_masked_as_text_with_every_detector()
    {
        // Only email is configured; the text fallback adds every other detector.
        var output = Json(Plan(null, Detect("email")), "<html>Error for ada@example.com, card 4111 1111 1111 1111</html>\n", pieceSize: 5);

        Assert.Equal("<html>Error for [REDACTED:EMAIL], card [REDACTED:CARD]</html>\n", output);
    }

    [Fact]
    public void Json_that_breaks_midway_is_masked_as_text_from_there()
    {
        var output = Json(Plan(null, Detect("email")), "{\"a\":\"x@example.com\",\"b\": tru 4111111111111111 y@example.com}", pieceSize: 4);

        Assert.StartsWith("{\"a\":\"[REDACTED:EMAIL]\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("@example.com", output, StringComparison.Ordinal);
        Assert.DoesNotContain("4111111111111111", output, StringComparison.Ordinal);
    }

    [Fact]
    public void With_field_rules_invalid_json_fails_closed()
    {
        var plan = Plan([Field("$.name")]);

        Assert.Throws<MaskingFailedException>(() => Json(plan, "{\"name\": 'single quotes'}"));
        Assert.Throws<MaskingFailedException>(() => Json(plan, "{\"name\": \"cut off"));
    }

    [Fact]
    public void A_value_over_the_token_bound_is_not_held_whole()
    {
        var big = "{\"blob\":\"" + new string('x', 5000) + " ada@example.com\"}";

        var output = Json(Plan(null, Detect("email")), big, pieceSize: 100, maxToken: 1024);

        Assert.DoesNotContain("ada@example.com", output, StringComparison.Ordinal);
        Assert.Throws<MaskingFailedException>(() => Json(Plan([Field("$.x")], Detect("email")), big, pieceSize: 100, maxToken: 1024));
    }

    [Fact]
    public void A_value_over_the_token_bound_is_masked_the_same_whether_it_arrives_whole_or_in_pieces()
    {
        // Over the bound, the value and what follows are masked as text with every detector
        // (the IPv4 address too); that must not depend on whether the value came in one piece.
        var big = "{\"ok\":\"ada@example.com\",\"blob\":\"" + new string('x', 2000) + " bob@example.com 10.1.2.3\",\"n\":1}";
        var plan = Plan(null, Detect("email"));
        var expected = Json(plan, big, pieceSize: 1, maxToken: 1024);

        Assert.Contains("[REDACTED:IPV4]", expected, StringComparison.Ordinal);
        foreach (var size in new[] { 0, 7, 100, 1500, 4096 })
        {
            Assert.Equal(expected, Json(plan, big, pieceSize: size, maxToken: 1024));
            Assert.Throws<MaskingFailedException>(() => Json(Plan([Field("$.x")], Detect("email")), big, pieceSize: size, maxToken: 1024));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    public void A_value_over_the_token_bound_keeps_its_field_name_and_the_output_stays_json(int pieceSize)
    {
        var big = "{\"ok\":1,\"blob\" : \"" + new string('x', 2000) + " bob@example.com\",\"n\":[1,\"" + new string('y', 1500) + "\"]}";

        var output = Json(Plan(null, Detect("email")), big, pieceSize, maxToken: 1024);

        using var document = System.Text.Json.JsonDocument.Parse(output);
        Assert.StartsWith(new string('x', 2000), document.RootElement.GetProperty("blob").GetString(), StringComparison.Ordinal);
        Assert.Contains("[REDACTED:EMAIL]", document.RootElement.GetProperty("blob").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, document.RootElement.GetProperty("ok").GetInt32());
        Assert.Equal(2, document.RootElement.GetProperty("n").GetArrayLength());
    }

    [Fact]
    public void An_empty_body_stays_empty()
    {
        Assert.Equal("", Json(Plan([Field("$.a")]), ""));
    }

    [Theory]
    [InlineData("customers[*].email", "starts with $")]
    [InlineData("$", "names the whole document")]
    [InlineData("$.a[?(@.b)]", "no filters or slices")]
    [InlineData("$.a[1:3]", "no filters or slices")]
    [InlineData("$.a[", "is not closed")]
    public void Unsupported_paths_are_refused_with_a_reason(string path, string reason)
    {
        Assert.False(JsonPathPattern.TryParse(path, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$.a.b", """{"a":{"b":"S","c":"k"},"b":"k"}""")]
    [InlineData("$['a']['b']", """{"a":{"b":"S","c":"k"},"b":"k"}""")]
    [InlineData("$.list[1]", """{"list":["k","S","k"]}""")]
    [InlineData("$.*.id", """{"x":{"id":"S"},"y":{"id":"S","no":"k"},"id":"k"}""")]
    [InlineData("$..[*]", """{"a":["S","S"],"b":{"c":["S"]}}""")]
    [InlineData("$..a.b", """{"a":{"b":"S"},"x":{"y":{"a":{"b":"S","c":"k"}}}}""")]
    public void Path_forms_match_what_they_name(string path, string body)
    {
        var output = Json(Plan([Field(path, label: "S")]), body);

        Assert.DoesNotContain("\"S\"", output, StringComparison.Ordinal);
        Assert.Equal(body.Split("\"S\"").Length - 1, output.Split("[REDACTED:S]").Length - 1);
        Assert.Equal(body.Split("\"k\"").Length, output.Split("\"k\"").Length);
    }
}

public class JsonMaskerRecordTests
{
    [Theory]
    [InlineData(16 * 1024)]
    [InlineData(4093)]
    [InlineData(7)]
    public void A_long_array_of_records_leaves_no_listed_value_at_any_piece_size(int pieceSize)
    {
        var body = new System.Text.StringBuilder("[");
        for (var i = 0; i < 3000; i++)
        {
            body.Append(i > 0 ? "," : "").Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{{\"id\":{i},\"name\":\"Customer {i}\",\"amount\":{i % 1000}.25,\"note\":\"renewal due\"");
            if (i % 20 == 0)
            {
                body.Append(System.Globalization.CultureInfo.InvariantCulture, $",\"email\":\"user{i}@example.com\",\"card\":\"4111 1111 1111 1111\"");
            }

            body.Append('}');
        }

        body.Append(']');
        var plan = MaskingTestPlans.Plan([MaskingTestPlans.Field("$[*].name", Airlock.Gateway.Masking.MaskAction.Partial)],
            [.. Airlock.Gateway.Detection.Detectors.All.Select(d => new Airlock.Gateway.Masking.DetectorRule(d, Airlock.Gateway.Masking.MaskAction.Redact))]);

        var output = MaskingTestPlans.Json(plan, body.ToString(), pieceSize);

        Assert.DoesNotContain("@example.com", output, StringComparison.Ordinal);
        Assert.Equal(150, output.Split("[REDACTED:EMAIL]").Length - 1);
        System.Text.Json.JsonDocument.Parse(output).Dispose();
    }
}
