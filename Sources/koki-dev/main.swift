import KokiDevTools

await KokiDev.runAsMain()
