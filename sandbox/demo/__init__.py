"""The demo's page, its customer simulator and its config (the fakes that `talker-bridge demo`
runs in-process). The runner that starts them beside the real bridge is `app.demo.DemoRunner`.
"""
