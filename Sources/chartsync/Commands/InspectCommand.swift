import ArgumentParser
import ChartSync

/// `chartsync inspect BUNDLE`: show the manifest without extracting.
struct InspectCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a bundle's manifest (charts, sizes, signer, sequence) without extracting or proving the payload."
    )

    /// The bundle (FILE or FILE.000).
    @Argument(help: "The bundle (FILE or FILE.000).")
    var bundle: String

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// Reads the manifest and prints it.
    func run() throws {
        let (manifest, signer, parts) = try Failure.mapping { try BundleVerifier().inspect(Paths.absolute(bundle)) }
        if format.json {
            Terminal.output(try JSONOutput.encode(InspectSummary(manifest: manifest, signer: signer, parts: parts)))
        } else {
            for line in InspectSummary.lines(manifest: manifest, signer: signer, parts: parts) { Terminal.output(line) }
        }
    }
}
