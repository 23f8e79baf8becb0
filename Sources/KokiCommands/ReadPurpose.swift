import ArgumentParser
import KokiStore
import Postgres

/// `--purpose` and `--operator-name` for a command that shows people's data: required, and each
/// person shown is a row of the access log (M5), written in the read's transaction.
struct ReadPurpose: ParsableArguments {
    @Option(help: "Why the data is read: a case, request or counter reference (required; logged with the database login).")
    var purpose: String = ""

    @Option(help: "Who reads it (default: $USER); the database login is logged as well.")
    var operatorName: String?

    func validate() throws {
        guard !purpose.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--purpose is required: every read of a person's data is logged with why it was read")
        }
    }

    func record(_ people: [String], command: String, fields: [String], on tx: PostgresConnection) throws {
        try AccessLog.record(subjects: people.map { "person:" + $0 }, command: command, fields: fields, purpose: purpose,
                             operatorName: operatorName ?? defaultOperator(), on: tx)
    }
}
