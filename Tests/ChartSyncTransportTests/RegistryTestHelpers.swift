import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// A client for one registry on 127.0.0.1 with the given settings (quick retries).
func registryClient(for registry: String, plainHTTP: Bool = true, credentials: Credentials? = nil,
                    caFile: String? = nil, recorder: Recorder? = nil) -> RegistryClient {
    var options = quickOptions()
    options.caFile = caFile
    let endpoint = RegistryEndpoint(plainHTTP: plainHTTP, credentials: credentials, transport: options)
    var onEvent: (@Sendable (TransportEvent) -> Void)?
    if let recorder { onEvent = { recorder.record($0) } }
    return RegistryClient(endpoints: [registry: endpoint], onEvent: onEvent)
}

/// A parsed image reference.
func imageReference(_ text: String) throws -> ImageReference {
    try ImageReference(parsing: text)
}

/// Resolves, expecting failure; records an issue and returns nil when it succeeds.
func resolveError(_ client: RegistryClient, _ text: String,
                  sourceLocation: SourceLocation = #_sourceLocation) throws -> RegistryError? {
    let image = try imageReference(text)
    do {
        let digest = try client.resolve(image)
        Issue.record("expected an error, got \(digest)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Every way an error can be turned into text.
func texts(_ error: RegistryError?) -> [String] {
    guard let error else { return [] }
    var dumped = ""
    dump(error, to: &dumped)
    return [error.description, String(describing: error), String(reflecting: error), dumped]
}

/// Runs `body`, expecting a registry error; records an issue and returns nil when it succeeds
/// (or throws another error).
func expectRegistryError<T>(sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () throws -> T) throws -> RegistryError? {
    do {
        let value = try body()
        Issue.record("expected an error, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as RegistryError {
        return error
    } catch {
        Issue.record("expected a RegistryError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
