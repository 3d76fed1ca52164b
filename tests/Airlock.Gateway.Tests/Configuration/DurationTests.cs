using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

public class DurationTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("5m", 300_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1d", 86_400_000)]
    public void Durations_need_a_unit(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("5 minutes")]
    [InlineData("-5s")]
    [InlineData("5w")]
    [InlineData("99999999999999999d")]
    public void Anything_else_is_refused(string text)
    {
        Assert.False(Duration.TryParse(text, out _));
    }
}
