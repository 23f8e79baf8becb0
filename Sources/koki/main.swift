import KokiCommands

await Koki.runAsMain()
