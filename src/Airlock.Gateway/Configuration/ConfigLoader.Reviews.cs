using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    /// <summary>The review events a webhook can receive.</summary>
    public static readonly ImmutableArray<string> ReviewEvents = ["opened", "approved", "denied", "expired", "executed"];

    private static ReviewsConfig ReadReviews(YamlConfigReader reader, SecretResolver secrets, YamlNode? node, List<ConfigError> warnings)
    {
        if (node is null || reader.Mapping(node, "reviews") is not { } map)
        {
            return ReviewsConfig.Default;
        }

        reader.OnlyKeys(map, "reviews", "maxResultBytes", "links", "webhooks");
        var maxResult = ReviewsConfig.Default.MaxResultBytes;
        if (reader.String(map, "maxResultBytes", "reviews", required: false) is { } text)
        {
            if (!ByteSize.TryParse(text, out maxResult) || maxResult is < 0 or > 1L << 30)
            {
                reader.Error(YamlConfigReader.Child(map, "maxResultBytes"), "reviews.maxResultBytes", $"'{text}' must be a size up to 1GiB, e.g. 1MiB");
            }
        }

        Uri? links = null;
        if (reader.String(map, "links", "reviews", required: false) is { } linkText)
        {
            if (!Uri.TryCreate(linkText, UriKind.Absolute, out links) || (links.Scheme != Uri.UriSchemeHttp && links.Scheme != Uri.UriSchemeHttps))
            {
                reader.Error(YamlConfigReader.Child(map, "links"), "reviews.links", "must be an absolute http or https URL");
                links = null;
            }
            else
            {
                warnings.Add(Warning(reader, YamlConfigReader.Child(map, "links")!, "reviews.links",
                    "is deprecated: set console.publicUrl, and links lead to the console's page of each review (console.publicUrl wins when both are set)"));
            }
        }

        var webhooks = ImmutableArray.CreateBuilder<WebhookConfig>();
        if (YamlConfigReader.Child(map, "webhooks") is { } hooksNode)
        {
            if (hooksNode is not YamlSequenceNode list)
            {
                reader.Error(hooksNode, "reviews.webhooks", "must be a list of webhooks");
            }
            else
            {
                for (var i = 0; i < list.Children.Count; i++)
                {
                    if (ReadWebhook(reader, secrets, list.Children[i], $"reviews.webhooks[{i}]") is { } hook)
                    {
                        webhooks.Add(hook);
                    }
                }
            }
        }

        return new ReviewsConfig(maxResult, links, webhooks.ToImmutable());
    }

    private static WebhookConfig? ReadWebhook(YamlConfigReader reader, SecretResolver secrets, YamlNode node, string path)
    {
        if (reader.Mapping(node, path) is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "name", "url", "format", "secret", "events");
        var errorsBefore = reader.Errors.Count;
        var name = reader.String(map, "name", path, required: true);
        var url = secrets.Resolve(YamlConfigReader.Child(map, "url"), path + ".url", parent: map);
        if (url is { IsResolved: true } && (!Uri.TryCreate(url.Reveal(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            reader.Error(YamlConfigReader.Child(map, "url"), path + ".url", $"the value of {url.Source} is not an absolute http or https URL");
        }

        var format = reader.String(map, "format", path, required: false) ?? "json";
        if (format is not ("json" or "slack"))
        {
            reader.Error(YamlConfigReader.Child(map, "format"), path + ".format", $"'{format}' is not a format; expected json or slack");
        }

        Secret? signing = null;
        if (YamlConfigReader.Child(map, "secret") is { } secretNode)
        {
            signing = secrets.Resolve(secretNode, path + ".secret");
        }
        else if (format == "json")
        {
            reader.Error(map, path + ".secret", "a json webhook needs a signing secret, so the receiver can tell Airlock's events from forgeries");
        }

        var events = reader.StringList(map, "events", path, ReviewEvents);
        foreach (var e in events)
        {
            if (!ReviewEvents.Contains(e))
            {
                reader.Error(YamlConfigReader.Child(map, "events"), path + ".events", $"'{e}' is not an event; expected {string.Join(", ", ReviewEvents)}");
            }
        }

        return reader.Errors.Count > errorsBefore || name is null || url is null
            ? null
            : new WebhookConfig(name, url, format, signing, events.ToImmutableHashSet(StringComparer.Ordinal));
    }
}
