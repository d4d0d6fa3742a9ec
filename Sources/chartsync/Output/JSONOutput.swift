import Foundation

/// JSON on stdout: sorted keys, pretty, stable for machines.
enum JSONOutput {
    /// `value` as the JSON text chartsync prints.
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
