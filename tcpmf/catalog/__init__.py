"""Dated catalogs: API prices, GPUs and rent, CNY/USD, architectures, roofline, fitted declines, price import."""
