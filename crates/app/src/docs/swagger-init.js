window.onload = () => {
    const root = document.getElementById('swagger-ui');
    // validatorUrl: null — the default badge asks validator.swagger.io about the spec.
    window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: '#swagger-ui', validatorUrl: null });
};
