"""The local twin of Polku's AWS stack (moto server + real handlers in-process)."""
