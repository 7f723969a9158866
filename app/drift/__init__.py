"""The drift report: record a real Activepieces' answers through a proxy, replay them against
openpieces, and report every difference (ids and timestamps compared by rule)."""
