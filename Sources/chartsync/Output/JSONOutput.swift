import ChartSync
import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex
import Foundation

/// JSON on stdout: sorted keys, pretty, stable for machines.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension Failure {
    /// Runs `body`, turning library errors into a worded failure with the documented exit code.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as Failure {
            throw failure
        } catch let error as any ChartSyncFailure {
            throw Failure(code: ExitStatus(error.kind), message: String(describing: error))
        } catch let error as ChartListError {
            throw Failure(code: .usage, message: error.description)
        } catch {
            throw Failure(code: .ioFailure, message: String(describing: error))
        }
    }
}

/// `bundle --json`.
struct BundleSummary: Encodable {
    struct Part: Encodable {
        let file: String
        let size: Int64
        let sha256: String
    }

    let name: String
    let sequence: Int64
    let charts: Int
    let files: Int
    let payloadBytes: Int64
    let parts: [Part]
    let sha256: String
    let sidecar: String
    let signer: String?

    init(_ r: PackReport) {
        name = r.manifest.name
        sequence = r.manifest.sequence
        charts = r.manifest.charts.count
        files = r.manifest.files.count
        payloadBytes = r.manifest.payloadBytes
        parts = r.parts.map { Part(file: $0.file, size: $0.size, sha256: $0.sha256.prefixed) }
        sha256 = r.sha256.prefixed
        sidecar = r.sidecar
        signer = r.signer
    }
}

/// `verify --json`.
struct VerifySummary: Encodable {
    let name: String
    let sequence: Int64
    let charts: Int
    let files: Int
    let parts: [String]
    let signer: String?
    let signatureVerified: Bool
    let extractedTo: String?

    init(_ r: BundleVerification) {
        name = r.manifest.name
        sequence = r.manifest.sequence
        charts = r.manifest.charts.count
        files = r.manifest.files.count
        parts = r.parts
        signer = r.signer
        signatureVerified = r.signatureVerified
        extractedTo = r.extractedTo
    }
}

/// `inspect --json`.
struct InspectSummary: Encodable {
    struct Chart: Encodable {
        let name: String
        let version: String
        let sha256: String
    }

    struct File: Encodable {
        let path: String
        let size: Int64
        let sha256: String
        let mode: String
    }

    let name: String
    let sequence: Int64
    let chartsyncVersion: String
    let signer: String?
    let parts: [String]
    let charts: [Chart]
    let images: [String]
    let files: [File]

    init(manifest: BundleManifest, signer: String?, parts: [String]) {
        images = manifest.images
        name = manifest.name
        sequence = manifest.sequence
        chartsyncVersion = manifest.chartsyncVersion
        self.signer = signer
        self.parts = parts
        charts = manifest.charts.map { Chart(name: $0.name, version: $0.version, sha256: $0.sha256.prefixed) }
        files = manifest.files.map { File(path: $0.path, size: $0.size, sha256: $0.sha256.prefixed, mode: $0.executable ? "0755" : "0644") }
    }
}
