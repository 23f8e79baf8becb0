/// The release every koki executable reports (`--version`): the date of the release.
public enum KokiVersion {
    public static let string = "2026.12.07"
}
