print("chartsync")
