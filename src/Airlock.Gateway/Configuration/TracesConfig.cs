namespace Airlock.Gateway.Configuration;

/// <summary>
/// Where the gateway sends its OpenTelemetry traces (top-level <c>telemetry.traces</c>): an OTLP
/// collector, over HTTP (protobuf, <c>/v1/traces</c> added to a bare address) or gRPC, and the
/// share of new traces kept. Absent: no traces are recorded at all.
/// </summary>
internal sealed record TracesConfig(Uri Endpoint, bool Grpc, double SampleRatio);
