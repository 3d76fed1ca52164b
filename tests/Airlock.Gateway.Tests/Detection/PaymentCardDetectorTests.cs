using Airlock.Gateway.Detection;

namespace Airlock.Gateway.Tests.Detection;

public class PaymentCardDetectorTests
{
    private static readonly PaymentCardDetector Detector = new();

    private static List<string> Found(string text)
    {
        var found = new List<string>();
        Detector.Find(text, (start, length) =>
        {
            found.Add(text.Substring(start, length));
            return true;
        });
        return found;
    }

    [Theory]
    [InlineData("4111111111111111")]
    [InlineData("4111 1111 1111 1111")]
    [InlineData("4111-1111-1111-1111")]
    [InlineData("5500 0000 0000 0004")]
    [InlineData("3400 000000 00009")]
    [InlineData("6011000990139424")]
    [InlineData("4222222222222")]
    public void Luhn_valid_numbers_are_found(string card)
    {
        Assert.Equal([card], Found($"card: {card}, thanks"));
        Assert.Equal([card], Found($"\"{card}\""));
    }

    [Theory]
    [InlineData("4111111111111112")]
    [InlineData("1234 5678 9012 3456")]
    [InlineData("411111111111")]
    [InlineData("41111111111111111111")]
    [InlineData("order 20261124095636123")]
    [InlineData("4111  1111 1111 1111")]
    [InlineData("phone +1 202 555 0143")]
    public void Other_digit_runs_are_left_alone(string text)
    {
        Assert.Empty(Found(text));
    }

    [Fact]
    public void Several_numbers_in_one_text_are_all_found()
    {
        Assert.Equal(["4111111111111111", "5500-0000-0000-0004"], Found("a 4111111111111111 b 5500-0000-0000-0004 c"));
    }
}
