import ArgumentParser
import ChartSync
import ChartSyncBasics

/// `chartsync inspect BUNDLE`: show the manifest without extracting.
struct InspectCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a bundle's manifest (charts, sizes, signer, sequence) without extracting or proving the payload.",
        discussion: """
            Given a site directory (one verify BUNDLE --extract wrote), shows what it has installed; \
            --export FILE writes the installed manifest to FILE, the base `bundle --base FILE` packs \
            a delta against (small enough to carry back from the site).
            """
    )

    /// The bundle (FILE or FILE.000), or a site directory.
    @Argument(help: "The bundle (FILE or FILE.000), or a site directory.")
    var bundle: String

    /// Where to write a site's installed manifest.
    @Option(name: .customLong("export"), help: "With a site directory: write its installed manifest to this new file.")
    var export: String?

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// Reads the manifest and prints it.
    func run() throws {
        let path = Paths.absolute(bundle)
        if FileSystem.isDirectory(path) {
            let installed = try Failure.mapping { try BundleVerifier().installed(at: path) }
            if let export {
                let target = Paths.absolute(export)
                if FileSystem.exists(target) || FileSystem.isSymlink(target) {
                    throw Failure(code: .usage, message: "\(export) exists; not replacing it (choose a new file)")
                }
                try Failure.mapping { try FileSystem.writeAtomically(installed.bytes, to: target) }
            }
            if format.json {
                Terminal.output(try JSONOutput.encode(InspectSummary(manifest: installed.manifest, signer: installed.delivery.signer, parts: [])))
            } else {
                for line in InspectSummary.lines(manifest: installed.manifest, signer: installed.delivery.signer, parts: []) {
                    Terminal.output(line)
                }
                if let export { Terminal.output("wrote \(export): the installed manifest (\(installed.bytes.count) bytes), the base for bundle --base") }
            }
            return
        }
        if export != nil { throw Failure(code: .usage, message: "--export takes a site directory, not a bundle") }
        let (manifest, signer, parts) = try Failure.mapping { try BundleVerifier().inspect(path) }
        if format.json {
            Terminal.output(try JSONOutput.encode(InspectSummary(manifest: manifest, signer: signer, parts: parts)))
        } else {
            for line in InspectSummary.lines(manifest: manifest, signer: signer, parts: parts) { Terminal.output(line) }
        }
    }
}
